// UpstreamLink: connecting, writing, reading, and the STARTTLS / direct TLS switch
// (see upstream_link.hpp for the order of events and who hears what).
#include "xmpp/upstream_link.hpp"

#include <optional>

#include "net/connector.hpp"
#include "net/loop_context.hpp"
#include "net/proxy_protocol.hpp"
#include "xml/open_tag.hpp"
#include "xmpp/starttls.hpp"
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

// What deciding on TLS and switching to it needs, and nothing after.
struct UpstreamLink::Negotiation {
  std::string header;  // the stream header to send (again) once TLS is on
  std::string domain;  // the stream's `to`: SNI and the name the certificate must carry
  std::optional<engine::StreamHeader> first_header;  // the plain stream's, held back
};

namespace {
// Loopback: "localhost", 127.0.0.0/8 or ::1.
bool is_loopback_host(std::string_view host) {
  return host == "localhost" || host == "::1" || host == "[::1]" || host.rfind("127.", 0) == 0;
}
}  // namespace

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
  attempt_ = net::connect_tcp(loop, target.host, target.port, settings().connect_timeout_ms, this,
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

std::string_view UpstreamLink::tls_state() const {
  switch (tls_state_) {
    case Tls::kPlain: return "plain";
    case Tls::kAsked: return "asked";
    case Tls::kHandshaking: return "handshaking";
    case Tls::kOn: return "tls";
  }
  return "plain";
}

UpstreamConnector::UpstreamConnector(uv_loop_t* loop, LinkSettings settings)
    : loop_(loop), settings_(std::move(settings)) {}

UpstreamConnector::~UpstreamConnector() = default;

void UpstreamConnector::connect_failed(int status) {
  if (settings_.observer != nullptr) settings_.observer->link_connect_failed();
  ++failures_unlogged_;
  const std::uint64_t now = uv_now(loop_);
  if (settings_.report == nullptr ||
      (last_failure_log_ms_ != 0 && now - last_failure_log_ms_ < kConnectFailureLogMs)) {
    return;
  }
  last_failure_log_ms_ = now;
  std::string message = std::string("cannot connect to the XMPP server: ") + uv_strerror(status);
  if (failures_unlogged_ > 1) {
    message += " (" + std::to_string(failures_unlogged_) + " connects failed since the last such line)";
  }
  if (status == UV_EADDRNOTAVAIL) {
    // One local address reaches one server address from ~28,000 ports (the
    // kernel's ip_local_port_range): the ceiling of every loopback scale run.
    message += "; the local ports are used up: set upstream_source_addresses to connect from "
               "more addresses (docs/configuration.md)";
  }
  failures_unlogged_ = 0;
  settings_.report(message);
}

void UpstreamConnector::update_limits(const LinkSettings& next) {
  settings_.connect_timeout_ms = next.connect_timeout_ms;
  settings_.close_timeout_ms = next.close_timeout_ms;
  settings_.max_stanza_bytes = next.max_stanza_bytes;
  settings_.max_unsent_bytes = next.max_unsent_bytes;
}

void UpstreamConnector::attach(UpstreamLink& link) {
  link.prev_live = nullptr;
  link.next_live = live_;
  if (live_ != nullptr) live_->prev_live = &link;
  live_ = &link;
  ++live_count_;
}

void UpstreamConnector::detach(UpstreamLink& link) {
  if (link.prev_live != nullptr) link.prev_live->next_live = link.next_live;
  if (link.next_live != nullptr) link.next_live->prev_live = link.prev_live;
  if (live_ == &link) live_ = link.next_live;
  link.prev_live = link.next_live = nullptr;
  --live_count_;
}

void UpstreamConnector::close_all() {
  // Closing a socket frees its link only in the close callback, on a later loop
  // turn, so the list is not changed under this walk.
  for (UpstreamLink* link = live_; link != nullptr; link = link->next_live) link->close_socket_now();
}

void UpstreamLink::close_socket_now() {
  if (stream_ != nullptr) stream_->close();
}

std::unique_ptr<engine::Upstream> UpstreamConnector::open(const engine::UpstreamTarget& target,
                                                          engine::UpstreamEvents& events,
                                                          engine::StanzaFraming framing) {
  return std::make_unique<UpstreamLink>(loop_, *this, target, events, framing);
}

base::LocalShared<xml::StreamNamespaces> UpstreamConnector::share_namespaces(
    xml::StreamNamespaces&& namespaces) {
  const auto same = [&](const xml::StreamNamespaces& n) {
    return n.default_ns == namespaces.default_ns && n.stream_prefix == namespaces.stream_prefix &&
           n.other_prefixes == namespaces.other_prefixes;
  };
  if (!last_namespaces_ || !same(*last_namespaces_)) {
    last_namespaces_ = base::LocalShared<xml::StreamNamespaces>::make(std::move(namespaces));
  }
  return last_namespaces_;
}

const net::TlsContext* UpstreamConnector::tls_context(std::string& error) {
  if (!tls_context_ && tls_error_.empty()) {
    tls_context_ = net::TlsContext::create_client(settings_.tls_client, tls_error_);
  }
  error = tls_error_;
  return tls_context_.get();
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

// Slots a TlsSession in and sends the ClientHello. False if the link ended.
bool UpstreamLink::begin_tls() {
  std::string error;
  const net::TlsContext* context = connector_.tls_context(error);
  if (context == nullptr) {
    fail(error);
    return false;
  }
  tls_state_ = Tls::kHandshaking;
  net::TlsSessionSink& sink = *this;  // a private base: converted here, not in make_unique
  tls_ = std::make_unique<net::TlsSession>(*context, sink);
  tls_->start(negotiation_->domain);  // may fail at once, through tls_failed
  return state_ == State::kOpen;
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
  const std::string_view client = events_ != nullptr ? events_->client_address() : std::string_view();
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
// TLS

// The first <stream:features> of a plain stream decide; TLS offers are never passed
// on. Returns whether the element goes to the session.
bool UpstreamLink::accept_features(std::string& features) {
  const TlsOffer offer = take_starttls_offer(features);
  if (tls_state_ == Tls::kOn) return true;
  const TlsMode mode = settings().tls;
  if (!negotiation_) {  // upstream_tls = off, or a later plain stream (after SASL)
    if (offer.required) {
      fail(mode == TlsMode::kOff ? "the server requires TLS and upstream_tls is off"
                                 : "the server requires TLS after it was declined");
      return false;
    }
    return true;
  }
  // XEP-0124 §15 (R15): the link to the server should be encrypted unless the
  // server runs on the same host. There, an optional offer is declined under
  // `auto`: a TLS session costs ~19 KB per connection and protects nothing on
  // loopback. A server that requires TLS gets it.
  const bool decline =
      mode == TlsMode::kAuto && same_host_ && !offer.required && !settings().tls_on_loopback;
  if (offer.offered && !decline) {
    tls_state_ = Tls::kAsked;
    write_raw(std::string(kStartTlsRequest));
    return false;
  }
  if (mode == TlsMode::kRequired) {
    fail("the server does not offer STARTTLS and upstream_tls is required");
    return false;
  }
  // auto and no offer (or one declined on loopback): stay plain, and the session
  // hears of the stream now.
  std::unique_ptr<Negotiation> done = std::move(negotiation_);
  write_raw(take_pending());
  if (done->first_header) tell_opened(*done->first_header);
  return events_ != nullptr;
}

void UpstreamLink::answer_to_starttls(std::string&& element) {
  switch (read_tls_answer(element)) {
    case TlsAnswer::kProceed:
      // Whatever follows on this connection is TLS; a new stream follows that.
      framer_.reset();
      namespaces_.reset();
      begin_tls();
      return;
    case TlsAnswer::kFailure:
      fail("the server refused STARTTLS");
      return;
    case TlsAnswer::kOther:
      if (xml::element_name(element) == "stream:error") {
        report_end(engine::UpstreamEnd::kStreamError, std::move(element));
      } else {
        fail("the server answered <starttls/> with <" + std::string(xml::element_name(element)) +
             ">");
      }
      return;
  }
}

void UpstreamLink::tls_send(std::string&& ciphertext) { write_raw(std::move(ciphertext)); }

void UpstreamLink::tls_established() {
  if (state_ != State::kOpen) return;
  tls_state_ = Tls::kOn;
  framer_.reset();
  namespaces_.reset();
  tls_->write(negotiation_->header);
  negotiation_.reset();
  if (pending_) tls_->write(take_pending());
}

void UpstreamLink::tls_received(std::string_view plaintext) { framer_.feed(plaintext, *this); }

void UpstreamLink::tls_peer_closed() {
  // close_notify without </stream:stream> first: the stream is cut short.
  if (state_ == State::kClosing || owns_itself_) {
    if (stream_ != nullptr) stream_->close();
    return;
  }
  report_end(engine::UpstreamEnd::kFailed, {});
}

void UpstreamLink::tls_failed(std::string_view reason) {
  if (state_ == State::kClosing || owns_itself_) {
    if (stream_ != nullptr) stream_->close();
    return;
  }
  fail(reason);
}

// ---------------------------------------------------------------------------
// From the server

void UpstreamLink::on_read(net::TcpStream&, std::string_view bytes) {
  if (settings().observer != nullptr) settings().observer->link_bytes_received(bytes.size());
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

void UpstreamLink::on_write_error(net::TcpStream& stream, int status) { on_read_end(stream, status); }

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
