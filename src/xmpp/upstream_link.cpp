// UpstreamLink: connecting, writing, reading and closing; the STARTTLS / direct TLS
// switch is upstream_link_tls.cpp (see upstream_link.hpp for the order of events
// and who hears what).
#include "xmpp/upstream_link.hpp"

#include <optional>

#include "net/connector.hpp"
#include "net/loop_context.hpp"
#include "net/proxy_protocol.hpp"
#include "xml/open_tag.hpp"
#include "xmpp/stream_header.hpp"

namespace sb::xmpp {
namespace {

// Takes over a socket whose link is gone: it only lets the socket finish closing.
class DiscardHandler final : public net::StreamHandler {
 public:
  void on_read(net::TcpStream&, std::string_view) override {}
  void on_read_end(net::TcpStream& stream, int) override { stream.close(); }
  void on_write_error(net::TcpStream& stream, int) override { stream.close(); }
  void on_closed(net::TcpStream&) override {}
};
DiscardHandler discard_handler;

}  // namespace

bool UpstreamLink::is_loopback_host(std::string_view host) {
  return host == "localhost" || host == "::1" || host == "[::1]" || host.rfind("127.", 0) == 0;
}

UpstreamLink::UpstreamLink(uv_loop_t* loop, UpstreamConnector& connector,
                           const engine::UpstreamTarget& target, engine::UpstreamEvents& events,
                           engine::StanzaFraming framing)
    : base::TimerNode(&UpstreamLink::on_timer),
      connector_(connector),
      events_(&events),
      framer_(connector.settings().max_stanza_bytes),
      framing_(framing),
      same_host_(is_loopback_host(target.host)) {
  static_assert(sizeof(void*) != 8 || sizeof(UpstreamLink) <= 184, "one per session: 184 bytes");
  std::string header = opening_header(target);
  if (settings().tls == TlsMode::kOff) {
    pending_ = std::make_unique<std::string>(std::move(header));
  } else {
    negotiation_ =
        std::make_unique<Negotiation>(Negotiation{std::move(header), target.to, std::nullopt});
  }
  // One deadline for the whole opening: connect, TLS, and the header of the stream
  // the session will use. (The connector's own timeout, the same, covers the connect.)
  net::context_of(loop).timers().arm(timer(), settings().connect_timeout_ms);
  if (settings().observer != nullptr) settings().observer->link_opening();
  attempt_ = net::connect_tcp(
      loop, target.host, target.port, settings().connect_timeout_ms, this,
      [this, opened = uv_hrtime()](int status, net::TcpStream* stream) {
        connected(status, stream, opened);
      },
      settings().sources);
  connector_.attach(*this);
}

UpstreamLink::~UpstreamLink() {
  end_opening(LinkObserver::OpenOutcome::kAbandoned);
  connector_.detach(*this);
  if (attempt_ != nullptr) net::cancel_connect(attempt_);
  if (stream_ != nullptr) {
    stream_->set_handler(&discard_handler);
    stream_->close();
  }
}

const LinkSettings& UpstreamLink::settings() const { return connector_.settings(); }

std::string UpstreamLink::take_pending() {
  std::string bytes = pending_ ? std::move(*pending_) : std::string();
  pending_.reset();
  return bytes;
}

const xml::StreamNamespaces& UpstreamLink::namespaces() const {
  static const xml::StreamNamespaces kBeforeHeader;  // jabber:client, prefix "stream"
  return namespaces_ ? *namespaces_ : kBeforeHeader;
}

void UpstreamLink::close_socket_now() {
  if (stream_ != nullptr) stream_->close();
}

// ---------------------------------------------------------------------------
// Towards the server

void UpstreamLink::connected(int status, net::TcpStream* stream, std::uint64_t opened_ns) {
  attempt_ = nullptr;
  LinkObserver* observer = settings().observer;
  if (status != 0 || stream == nullptr) {
    connector_.connect_failed(status != 0 ? status : UV_ECONNABORTED);
    report_end(engine::UpstreamEnd::kFailed, {});
    return;
  }
  if (observer != nullptr) observer->link_connected((uv_hrtime() - opened_ns) / 1000);
  stream_ = stream;
  state_ = State::kOpen;
  if (settings().proxy_protocol != 0) send_proxy_header();
  if (!negotiation_) {
    write_raw(take_pending());
  } else if (settings().tls == TlsMode::kDirect) {
    if (!begin_tls()) return;
  } else {
    // The header in clear; what the session sent meanwhile waits for the features
    // to decide whether it goes in clear or over TLS.
    write_raw(negotiation_->header);
  }
  if (stream_->start_reading() != 0) report_end(engine::UpstreamEnd::kFailed, {});
}

void UpstreamLink::write_raw(std::string bytes) {
  if (stream_ == nullptr || bytes.empty()) return;
  if (settings().observer != nullptr) settings().observer->link_bytes_sent(bytes.size());
  stream_->write(std::move(bytes));
}

// Before anything else on the connection, TLS included: the server reads it off
// the socket before its XMPP parser (or its TLS) sees a byte. The destination is
// the server's own address as we connected to it.
void UpstreamLink::send_proxy_header() {
  sockaddr_storage server{};
  int length = sizeof server;
  const bool known =
      uv_tcp_getpeername(stream_->handle(), reinterpret_cast<sockaddr*>(&server), &length) == 0;
  const std::string_view client =
      events_ != nullptr ? events_->client_address() : std::string_view();
  write_raw(net::encode_proxy_header(settings().proxy_protocol, client, 0,
                                     known ? reinterpret_cast<const sockaddr*>(&server) : nullptr));
}

void UpstreamLink::transmit(std::string_view bytes) {
  if (tls_state_ == Tls::kOn) {
    tls_->write(bytes);
  } else {
    write_raw(std::string(bytes));
  }
}

void UpstreamLink::send(std::string_view bytes) {
  // Nothing of the session's goes out before it is settled whether TLS carries it.
  if (state_ == State::kConnecting || (state_ == State::kOpen && negotiation_)) {
    if (!pending_) pending_ = std::make_unique<std::string>();
    pending_->append(bytes);
  } else if (state_ == State::kOpen) {
    transmit(bytes);
  }
  // A server that stops reading must not make us buffer without bound. The end
  // is reported from the timer, not from inside the session's own call.
  const std::size_t unsent =
      (pending_ ? pending_->size() : 0) + (stream_ != nullptr ? stream_->queued_bytes() : 0);
  if (state_ == State::kOpen && unsent > settings().max_unsent_bytes && !backlog_full_) {
    backlog_full_ = true;
    net::context_of(connector_.loop()).timers().arm(timer(), 0);
  }
}

void UpstreamLink::restart(const engine::UpstreamTarget& target) {
  // XEP-0206 §5: after SASL success a new stream starts on the same connection;
  // the server's next bytes begin a new document.
  framer_.reset();
  namespaces_.reset();
  send(opening_header(target));
}

void UpstreamLink::close() {
  end_opening(LinkObserver::OpenOutcome::kAbandoned);  // its session no longer waits for it
  owns_itself_ = true;
  events_ = nullptr;
  switch (state_) {
    case State::kConnecting:
      delete this;  // cancels the attempt
      return;
    case State::kOpen:
      state_ = State::kClosing;
      if (tls_state_ == Tls::kHandshaking) {
        stream_->close();  // nothing can be said politely in the middle of a handshake
        return;
      }
      // Say goodbye so the server ends the session now (and tells the contacts),
      // then give it a moment to close its side.
      transmit(kClosingTag);
      if (tls_) tls_->close_notify();
      stream_->shutdown_after_writes();
      net::context_of(connector_.loop()).timers().arm(timer(), settings().close_timeout_ms);
      return;
    case State::kClosing:
    case State::kDone:
      if (stream_ == nullptr) {
        delete this;
      } else {
        stream_->close();
      }
      return;
  }
}

void UpstreamLink::fail(std::string_view reason) {
  if (state_ == State::kDone) return;
  if (settings().report != nullptr && !owns_itself_) {
    std::string message = "XMPP server link";
    if (negotiation_) message += " for '" + negotiation_->domain + "'";
    message += ": ";
    message += reason;
    settings().report(message);
  }
  report_end(engine::UpstreamEnd::kFailed, {});
}

void UpstreamLink::report_end(engine::UpstreamEnd end, std::string&& detail) {
  if (state_ == State::kDone) return;
  // Ending while opening is the server's failure, unless we were closing it.
  end_opening(state_ == State::kClosing ? LinkObserver::OpenOutcome::kAbandoned
                                        : LinkObserver::OpenOutcome::kFailed);
  const bool was_closing = state_ == State::kClosing;
  state_ = State::kDone;
  if (stream_ != nullptr) stream_->close();
  engine::UpstreamEvents* events = std::exchange(events_, nullptr);
  if (events != nullptr && !was_closing) events->upstream_closed(end, std::move(detail));
}

void UpstreamLink::on_timer(base::TimerNode& node) {
  auto& self = static_cast<UpstreamLink&>(node);
  switch (self.state_) {
    case State::kConnecting:
      // The connector's timeout, armed at the same moment, has not fired yet.
      net::cancel_connect(std::exchange(self.attempt_, nullptr));
      self.connector_.connect_failed(UV_ETIMEDOUT);
      self.report_end(engine::UpstreamEnd::kFailed, {});
      return;
    case State::kOpen:  // armed in the open state: the opening deadline, or a full backlog
      if (self.backlog_full_) {
        self.fail("the server stopped reading (too many bytes unsent)");
        return;
      }
      self.fail(self.tls_state_ == Tls::kAsked || self.tls_state_ == Tls::kHandshaking
                    ? "TLS negotiation timed out"
                    : "no stream header in time");
      return;
    case State::kClosing:
    case State::kDone:
      // The server did not close its side in time: close ours.
      if (self.stream_ != nullptr) self.stream_->close();
      return;
  }
}

// ---------------------------------------------------------------------------
// From the server

void UpstreamLink::on_read(net::TcpStream&, std::string_view bytes) {
  if (settings().observer != nullptr) settings().observer->link_bytes_received(bytes.size());
  if (events_ != nullptr) events_->upstream_batch_begin();
  if (tls_state_ == Tls::kHandshaking || tls_state_ == Tls::kOn) {
    tls_->feed(bytes);
  } else {
    framer_.feed(bytes, *this);
  }
  if (events_ != nullptr) events_->upstream_batch_end();
}

void UpstreamLink::on_read_end(net::TcpStream&, int) {
  if (state_ == State::kClosing || owns_itself_) {
    if (stream_ != nullptr) stream_->close();
    return;
  }
  report_end(engine::UpstreamEnd::kFailed, {});
}

void UpstreamLink::on_write_error(net::TcpStream& stream, int status) {
  on_read_end(stream, status);
}

void UpstreamLink::on_closed(net::TcpStream&) {
  stream_ = nullptr;
  base::TimerWheel::disarm(timer());
  if (owns_itself_) delete this;
}

void UpstreamLink::stream_opened(std::string_view open_tag) {
  if (tls_state_ == Tls::kAsked || tls_state_ == Tls::kHandshaking) {
    fail("the server sent a stream header where TLS was expected");
    return;
  }
  namespaces_ = connector_.share_namespaces(xml::read_stream_namespaces(open_tag));
  if (negotiation_ && tls_state_ == Tls::kPlain) {
    // TLS may still follow: the session hears only of the stream it will use.
    negotiation_->first_header = read_server_header(open_tag);
    return;
  }
  tell_opened(read_server_header(open_tag));
}

void UpstreamLink::end_opening(LinkObserver::OpenOutcome outcome) {
  if (!opening_) return;
  opening_ = false;
  LinkObserver* observer = settings().observer;
  if (observer == nullptr) return;
  // The opening deadline is still armed (or has fired: nothing left): how much of
  // it is left says how long the opening took, with no clock kept per link.
  const std::uint64_t left = net::context_of(connector_.loop()).timers().remaining_ms(timer());
  const std::uint64_t limit = settings().connect_timeout_ms;
  observer->link_open_ended(outcome, limit > left ? limit - left : 0);
}

void UpstreamLink::tell_opened(const engine::StreamHeader& header) {
  end_opening(LinkObserver::OpenOutcome::kOpened);
  if (state_ == State::kOpen) base::TimerWheel::disarm(timer());  // the opening is over
  if (events_ != nullptr) events_->upstream_opened(header);
}

void UpstreamLink::stanza(std::string&& bytes) {
  if (events_ == nullptr) return;
  if (tls_state_ == Tls::kHandshaking) {
    fail("the server sent XML in clear after <proceed/>");
    return;
  }
  // Fixed once, for where the session puts it: inside a BOSH <body/>, or alone
  // in a WebSocket message, which must declare the stream: prefix it uses.
  std::string element = xml::fix_server_element(std::move(bytes), namespaces());
  if (framing_ == engine::StanzaFraming::kWebSocket) {
    element = xml::declare_stream_prefix(std::move(element));
  }
  if (tls_state_ == Tls::kAsked) {
    answer_to_starttls(std::move(element));
    return;
  }
  const std::string_view name = xml::element_name(element);
  if (name == "stream:error") {
    report_end(engine::UpstreamEnd::kStreamError, std::move(element));
    return;
  }
  if (name == "stream:features" && !accept_features(element)) return;
  if (settings().observer != nullptr) settings().observer->link_stanza_received();
  events_->upstream_stanza(std::move(element));
}

void UpstreamLink::stream_closed() {
  if (state_ == State::kClosing || owns_itself_) {
    if (stream_ != nullptr) stream_->close();
    return;
  }
  report_end(engine::UpstreamEnd::kServerClosed, {});
}

void UpstreamLink::framing_error(std::string_view) {
  // Garbage or an oversized stanza: the stream cannot be trusted any more.
  report_end(engine::UpstreamEnd::kFailed, {});
}

}  // namespace sb::xmpp
