// The contract between a BOSH Session and its XMPP server link. The bosh/ layer
// knows nothing of sockets: it asks an UpstreamFactory for an Upstream and hears
// back through UpstreamEvents. xmpp/ implements it over TCP; tests implement it in
// memory.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "bosh/condition.hpp"

namespace sb::bosh {

// Where and how to open the XMPP stream.
struct UpstreamTarget {
  std::string host;      // TCP host to connect to
  std::uint16_t port = 5222;
  std::string to;        // the domain for <stream:stream to=...>
  std::string from;      // optional, for <stream:stream from=...>
  std::string lang;      // xml:lang
  std::string version;   // stream version ("1.0")
};

// What the server said in its stream header.
struct StreamHeader {
  std::string id;       // becomes the BOSH authid
  std::string from;     // the server's domain
  std::string version;  // xmpp:version
};

class UpstreamEvents {
 public:
  // The server opened (or re-opened, after a restart) its stream.
  virtual void upstream_opened(const StreamHeader& header) = 0;
  // One top-level element from the server, namespace-fixed for delivery inside a
  // BOSH <body/>: stanzas carry xmlns='jabber:client', stream elements keep the
  // stream: prefix. <starttls/> is already removed from stream features.
  virtual void upstream_stanza(std::string&& stanza) = 0;
  // The stanzas of one read from the server have all been delivered: a good moment
  // to answer a held request with all of them in one response.
  virtual void upstream_batch_end() = 0;
  // The link is over. `condition` is the BOSH terminate condition to report:
  // kRemoteConnectionFailed (could not connect / lost), kRemoteStreamError (the
  // server sent a stream error: `detail` holds the <stream:error/> element), or
  // kNone when the server closed its stream cleanly.
  virtual void upstream_closed(Condition condition, std::string&& detail) = 0;
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
  virtual std::unique_ptr<Upstream> open(const UpstreamTarget& target, UpstreamEvents& events) = 0;

 protected:
  ~UpstreamFactory() = default;
};

}  // namespace sb::bosh
