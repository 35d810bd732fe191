// The contract between a session, of either transport, and its XMPP server link.
// The engine knows nothing of sockets: a session asks an UpstreamFactory for an
// Upstream and hears back through UpstreamEvents. xmpp/ implements it over TCP;
// tests implement it in memory. A BOSH Session (bosh/) and a WebSocket WsSession
// (ws/) both drive one, each mapping how the link ended (UpstreamEnd) to its own
// way of telling the client.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

namespace sb::engine {

// Where and how to open the XMPP stream.
struct UpstreamTarget {
  std::string host;  // TCP host to connect to
  std::uint16_t port = 5222;
  std::string to;       // the domain for <stream:stream to=...>
  std::string from;     // optional, for <stream:stream from=...>
  std::string lang;     // xml:lang
  std::string version;  // stream version ("1.0")
};

// What the server said in its stream header.
struct StreamHeader {
  std::string id;       // becomes the BOSH authid
  std::string from;     // the server's domain
  std::string version;  // xmpp:version
};

// Where the session puts each element it receives, which decides the namespace
// declarations the element must carry (the link fixes each one once, for it).
enum class StanzaFraming : std::uint8_t {
  // Inside a BOSH <body/> (XEP-0206), which declares the stream: prefix: stanzas
  // carry xmlns='jabber:client', stream elements the stream: prefix.
  kBoshBody,
  // Alone in a WebSocket message (RFC 7395 §3.3.3): the same, and an element that
  // uses the stream: prefix declares it itself (xmlns:stream on its top tag).
  kWebSocket,
};

// How a link ended, whatever the transport: each one tells its client in its own
// terms (a BOSH terminate condition, a WebSocket stream error).
enum class UpstreamEnd : std::uint8_t {
  kServerClosed,  // the server closed its stream cleanly (</stream:stream>)
  kFailed,        // could not connect, or the connection, its TLS or its framing failed
  kStreamError,   // the server sent <stream:error/>: the detail is that element
};

class UpstreamEvents {
 public:
  // The server opened (or re-opened, after a restart) its stream.
  virtual void upstream_opened(const StreamHeader& header) = 0;
  // One top-level element from the server, namespace-fixed for the StanzaFraming
  // the link was opened with. <starttls/> is already removed from stream features.
  virtual void upstream_stanza(std::string&& stanza) = 0;
  // One read from the server starts: what it carries (a header, stanzas) comes
  // next, then upstream_batch_end(). A WebSocket session holds its frames until
  // then and writes them in one go (one write for a stream header and its
  // features, or a burst of messages, instead of one each).
  virtual void upstream_batch_begin() {}
  // The stanzas of one read from the server have all been delivered: a good moment
  // to answer a held request with all of them in one response.
  virtual void upstream_batch_end() = 0;
  // The link is over. With kStreamError, `detail` holds the <stream:error/>
  // element, fixed like any other element; otherwise it is empty.
  virtual void upstream_closed(UpstreamEnd end, std::string&& detail) = 0;
  // The address of the client this stream serves ("192.0.2.7"), for a PROXY
  // protocol header towards the server (upstream_proxy_protocol); empty if unknown.
  virtual std::string_view client_address() const { return {}; }

 protected:
  ~UpstreamEvents() = default;
};

class Upstream {
 public:
  virtual ~Upstream() = default;
  // Sends stanza bytes (already namespace-fixed for the server) in order.
  virtual void send(std::string_view bytes) = 0;
  // Opens a new stream on the same connection (after SASL success).
  virtual void restart(const UpstreamTarget& target) = 0;
  // Sends </stream:stream> after everything queued and closes gracefully. No event
  // is delivered after this call. The Upstream outlives its owner while it finishes
  // closing and frees itself, so call it as `upstream.release()->close()`.
  virtual void close() = 0;
};

class UpstreamFactory {
 public:
  virtual std::unique_ptr<Upstream> open(const UpstreamTarget& target, UpstreamEvents& events,
                                         StanzaFraming framing) = 0;

 protected:
  ~UpstreamFactory() = default;
};

}  // namespace sb::engine
