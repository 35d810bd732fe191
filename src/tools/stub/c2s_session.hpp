// C2sSession: one client's XMPP stream on the stub (RFC 6120 subset), from the
// stream header to </stream:stream>:
//
//   header -> features (SASL PLAIN, ANONYMOUS) -> <auth/> -> <success/>
//   -> restart: header -> features (bind, session) -> bind -> ready
//
// Ready, it answers the iqs addressed to the server (session, roster get = empty
// roster, ping; anything else service-unavailable), echoes presence broadcasts to
// the client itself, and hands every stanza addressed to a JID to the Router with
// its 'from' stamped.
//
// Memory is the point of this class: an idle session is this object (the framer
// holds no buffer between stanzas), its TcpStream and its JID string; reads come
// from the loop's shared buffer. No timer, no per-session allocation besides those.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "net/tcp_stream.hpp"
#include "xml/stanza_framer.hpp"

namespace sb::stub {

class Worker;
struct StanzaHead;

class C2sSession final : public net::StreamHandler, public xml::FramerSink {
 public:
  C2sSession(Worker& worker, net::TcpStream& stream);
  C2sSession(const C2sSession&) = delete;
  C2sSession& operator=(const C2sSession&) = delete;
  ~C2sSession() = default;

  // Starts reading; false if the socket is already unusable (then it is closing).
  bool start();

  // Valid once bound (the Router only sees bound sessions).
  std::string_view jid() const { return jid_; }
  std::string_view bare() const { return std::string_view(jid_).substr(0, bare_len_); }
  std::string_view resource() const {
    return bound_ ? std::string_view(jid_).substr(bare_len_ + 1u) : std::string_view();
  }

  // A stanza routed to this session, written as is.
  void deliver(std::string_view stanza);

  // The next session of this worker bound to the same bare JID (Router's chain).
  C2sSession* next_same_bare = nullptr;

  // StreamHandler
  void on_read(net::TcpStream& stream, std::string_view bytes) override;
  void on_read_end(net::TcpStream& stream, int status) override;
  void on_drained(net::TcpStream& stream) override;
  void on_write_error(net::TcpStream& stream, int status) override;
  void on_closed(net::TcpStream& stream) override;

  // FramerSink
  void stream_opened(std::string_view open_tag) override;
  void stanza(std::string&& bytes) override;
  void stream_closed() override;
  void framing_error(std::string_view what) override;

 private:
  enum class State : std::uint8_t { kHeader, kAuth, kRestart, kBind, kReady, kClosing };

  std::string_view domain() const;
  void send(std::string bytes);
  // Writes `last` (a stream error or the close tag) and closes once it is out.
  void finish(std::string last);
  void on_auth(std::string_view stanza);
  void on_bind(std::string_view stanza);
  void on_ready(std::string_view stanza);
  void on_server_iq(std::string_view stanza, const StanzaHead& head);

  Worker& worker_;
  net::TcpStream* stream_;
  xml::StanzaFramer framer_;
  // The domain before auth; "local@domain" after it; "local@domain/resource" once
  // bound. One string: the Router's table keys view into it.
  std::string jid_;
  std::uint32_t bare_len_ = 0;  // length of "local@domain" (0 before auth)
  State state_ = State::kHeader;
  bool bound_ = false;
};

}  // namespace sb::stub
