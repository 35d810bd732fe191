// UpstreamLink: one XMPP client-to-server stream over TCP, optionally secured with
// TLS, the engine::Upstream of a session. It connects (with a timeout), sends the
// stream header, frames what the server sends into stanzas (xml::StanzaFramer),
// fixes their namespaces for where the session puts them (a BOSH <body/>, or a
// WebSocket message of their own: engine::StanzaFraming), and reports to it.
//
// TLS (config `upstream_tls`, see tls_mode.hpp): with STARTTLS (RFC 6120 §5) the
// first <stream:features> offering <starttls/> is answered with <starttls/> and is
// NOT passed on; after <proceed/> a net::TlsSession is slotted between the socket and
// the framer, the handshake runs, and a fresh stream header goes out over TLS. The
// session hears of the server only from the stream it will use: its header
// (upstream_opened) and features (the SASL mechanisms) after TLS, exactly one set,
// which is what the BOSH client's creation response must carry. The first
// stream's header is therefore held back until its features show whether TLS
// follows. With direct TLS the handshake starts as soon as TCP connects. The
// <starttls/> offer never reaches the browser (XEP-0206). Every TLS failure (refused,
// certificate rejected, not offered when required, required when off, timed out)
// ends the session with remote-connection-failed, and its reason goes to
// LinkSettings::report for the log.
//
// Ownership: the session owns the link through a unique_ptr until it calls
// close(); from then on the link owns itself, finishes the stream politely
// (</stream:stream>, close_notify under TLS, then waits briefly for the server's
// own close) and frees itself. If the session is destroyed without close() (after
// the link reported its own end), the destructor hands the socket to a handler that
// just lets it close.
//
// Memory: a plain link pays for TLS with two pointers; what TLS negotiation needs
// (the header to resend, the server's first header) lives in a Negotiation that is
// freed once TLS is on or ruled out. An established TLS link adds its TlsSession
// (about 19 KB with OpenSSL 3.0, see tls_session.hpp).
//
// Files: upstream_link.cpp connects, writes, reads and closes; upstream_link_tls.cpp
// is the TLS half above (the features decision, <starttls/>, the TlsSession's
// callbacks). The factory and the settings every link reads, UpstreamConnector and
// LinkSettings, are upstream_connector.hpp.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "base/local_shared.hpp"
#include "base/object_pool.hpp"
#include "base/timer_wheel.hpp"
#include "engine/upstream.hpp"
#include "net/tcp_stream.hpp"
#include "net/tls_session.hpp"
#include "xml/namespace_fixup.hpp"
#include "xml/stanza_framer.hpp"
#include "xmpp/link_observer.hpp"
#include "xmpp/link_record.hpp"
#include "xmpp/upstream_connector.hpp"

namespace sb::net {
class ConnectAttempt;
}

namespace sb::xmpp {

class UpstreamLink final
    : public engine::Upstream,
      public base::Pooled<UpstreamLink>,
      private net::StreamHandler,
      private xml::FramerSink,
      private net::TlsSessionSink,
      private base::TimerNode {  // the opening deadline, later the close timeout
 public:
  UpstreamLink(uv_loop_t* loop, UpstreamConnector& connector, const engine::UpstreamTarget& target,
               engine::UpstreamEvents& events, engine::StanzaFraming framing);
  ~UpstreamLink() override;

  // engine::Upstream
  void send(std::string_view bytes) override;
  void restart(const engine::UpstreamTarget& target) override;
  void close() override;

  // "plain", "asked" (<starttls/> sent), "handshaking", "tls": for tests and logs.
  std::string_view tls_state() const;
  // Shutdown: closes the socket now, without waiting for the server's goodbye.
  void close_socket_now();

  // Moving the link to another process (link_record.hpp, upstream_link_move.cpp).
  // movable(): plainly open and settled: no TLS, no opening or restart under way,
  // nothing waiting to be sent or queued in the socket's write queue.
  bool movable() const;
  LinkRecord record() const;
  // A duplicate of the socket's descriptor (close-on-exec) to send beside the
  // record, or -1 (errno says why). The link is unchanged.
  int duplicate_socket() const;
  // The socket's descriptor itself (the link keeps it), or -1: to send with
  // SCM_RIGHTS, which gives the receiver its own without a duplicate here.
  int socket_fd() const;
  // The socket moved (its duplicate went with the record): this handle closes
  // quietly, without </stream:stream> (the server must not notice), the session
  // hears nothing more, and the link frees itself. Call on a link its session let
  // go of (Session::move_out), instead of close().
  void let_go();
  // A link rebuilt from its record on the socket `fd` (taken over: closed on
  // failure too), open and reading at once; its events go to `events`. Null, with
  // the reason in `error`, if the socket or the record cannot be taken up.
  static std::unique_ptr<UpstreamLink> adopt(UpstreamConnector& connector,
                                             const engine::UpstreamTarget& target,
                                             engine::UpstreamEvents& events, LinkRecord&& record,
                                             int fd, std::string& error);

  // UpstreamConnector's list of live links (owned by a session or closing).
  UpstreamLink* prev_live = nullptr;
  UpstreamLink* next_live = nullptr;
  const net::TlsSession* tls_session() const { return tls_.get(); }

 private:
  enum class State : std::uint8_t { kConnecting, kOpen, kClosing, kDone };
  enum class Tls : std::uint8_t { kPlain, kAsked, kHandshaking, kOn };
  struct Negotiation;
  // Loopback: "localhost", 127.0.0.0/8 or ::1 (see accept_features).
  static bool is_loopback_host(std::string_view host);
  struct Adopted {};  // the constructor of a link that moved here (adopt)
  UpstreamLink(Adopted, UpstreamConnector& connector, const engine::UpstreamTarget& target,
               engine::UpstreamEvents& events, engine::StanzaFraming framing);

  const LinkSettings& settings() const;
  const xml::StreamNamespaces& namespaces() const;
  std::string take_pending();  // the bytes in pending_ (empty if none); frees it
  // `opened_ns`: uv_hrtime() when the link was opened (it rides in the connect
  // callback, so an established link keeps no clock of its own).
  void connected(int status, net::TcpStream* stream, std::uint64_t opened_ns);
  bool begin_tls();
  bool accept_features(std::string& features);
  void tell_opened(const engine::StreamHeader& header);
  // The opening is over (LinkObserver::link_open_ended); once.
  void end_opening(LinkObserver::OpenOutcome outcome);
  void answer_to_starttls(std::string&& element);
  void fail(std::string_view reason);
  void report_end(engine::UpstreamEnd end, std::string&& detail);
  void transmit(std::string_view bytes);  // application bytes, through TLS when on
  void write_raw(std::string bytes);      // bytes on the wire
  void send_proxy_header();
  static void on_timer(base::TimerNode& node);

  // net::StreamHandler
  void on_read(net::TcpStream& stream, std::string_view bytes) override;
  void on_read_end(net::TcpStream& stream, int status) override;
  void on_write_error(net::TcpStream& stream, int status) override;
  void on_closed(net::TcpStream& stream) override;
  // xml::FramerSink
  void stream_opened(std::string_view open_tag) override;
  void stanza(std::string&& bytes) override;
  void stream_closed() override;
  void framing_error(std::string_view what) override;
  // net::TlsSessionSink
  void tls_send(std::string&& ciphertext) override;
  void tls_established() override;
  void tls_received(std::string_view plaintext) override;
  void tls_peer_closed() override;
  void tls_failed(std::string_view reason) override;

  UpstreamConnector& connector_;    // also knows the loop
  engine::UpstreamEvents* events_;  // null once the session no longer listens
  net::ConnectAttempt* attempt_ = nullptr;
  net::TcpStream* stream_ = nullptr;
  std::unique_ptr<net::TlsSession> tls_;
  std::unique_ptr<Negotiation> negotiation_;  // while TLS is still to be settled
  xml::StanzaFramer framer_;
  // The server's stream declarations, shared with the other links to the same
  // server (UpstreamConnector::share_namespaces); null before its header.
  base::LocalShared<xml::StreamNamespaces> namespaces_;
  // Bytes sent before the connection (or TLS) was up; null once settled.
  std::unique_ptr<std::string> pending_;
  State state_ = State::kConnecting;
  Tls tls_state_ = Tls::kPlain;
  engine::StanzaFraming framing_;  // how the session wants its elements fixed
  bool owns_itself_ = false;       // close() was called: we free ourselves
  bool same_host_;                 // the server is on loopback (see accept_features)
  bool backlog_full_ = false;      // the server stopped reading: ending
  bool opening_ = true;            // no stream header yet (LinkObserver::link_opening)
};

// What deciding on TLS and switching to it needs, and nothing after. Here, not in
// a .cpp, because both of the link's files read it: upstream_link.cpp makes it,
// upstream_link_tls.cpp frees it once TLS is on or ruled out.
struct UpstreamLink::Negotiation {
  std::string header;  // the stream header to send (again) once TLS is on
  std::string domain;  // the stream's `to`: SNI and the name the certificate must carry
  std::optional<engine::StreamHeader> first_header;  // the plain stream's, held back
};

}  // namespace sb::xmpp
