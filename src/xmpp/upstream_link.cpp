#include "xmpp/upstream_link.hpp"

#include "net/connector.hpp"
#include "net/loop_context.hpp"
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

UpstreamLink::UpstreamLink(uv_loop_t* loop, const LinkSettings& settings,
                           const bosh::UpstreamTarget& target, bosh::UpstreamEvents& events)
    : loop_(loop),
      settings_(settings),
      events_(&events),
      framer_(settings.max_stanza_bytes),
      pending_(opening_header(target)),
      timer_(&UpstreamLink::on_timer, this) {
  attempt_ = net::connect_tcp(loop, target.host, target.port, settings.connect_timeout_ms, this,
                              [this](int status, net::TcpStream* stream) { connected(status, stream); });
}

UpstreamLink::~UpstreamLink() {
  if (attempt_ != nullptr) net::cancel_connect(attempt_);
  if (stream_ != nullptr) {
    stream_->set_handler(&discard_handler);
    stream_->close();
  }
}

std::unique_ptr<bosh::Upstream> UpstreamConnector::open(const bosh::UpstreamTarget& target,
                                                        bosh::UpstreamEvents& events) {
  return std::make_unique<UpstreamLink>(loop_, settings_, target, events);
}

// ---------------------------------------------------------------------------
// Towards the server

void UpstreamLink::connected(int status, net::TcpStream* stream) {
  attempt_ = nullptr;
  if (status != 0 || stream == nullptr) {
    report_end(bosh::Condition::kRemoteConnectionFailed, {});
    return;
  }
  stream_ = stream;
  state_ = State::kOpen;
  write(std::exchange(pending_, {}));
  if (stream_->start_reading() != 0) report_end(bosh::Condition::kRemoteConnectionFailed, {});
}

void UpstreamLink::write(std::string bytes) {
  if (stream_ != nullptr && !bytes.empty()) stream_->write(std::move(bytes));
}

void UpstreamLink::send(std::string_view bytes) {
  if (state_ == State::kConnecting) {
    pending_.append(bytes);
  } else if (state_ == State::kOpen) {
    write(std::string(bytes));
  }
}

void UpstreamLink::restart(const bosh::UpstreamTarget& target) {
  // XEP-0206 §5: after SASL success a new stream starts on the same connection;
  // the server's next bytes begin a new document.
  framer_.reset();
  namespaces_ = {};
  send(opening_header(target));
}

void UpstreamLink::close() {
  owns_itself_ = true;
  events_ = nullptr;
  switch (state_) {
    case State::kConnecting:
      delete this;  // cancels the attempt
      return;
    case State::kOpen:
      // Say goodbye so the server ends the session now (and tells the contacts),
      // then give it a moment to close its side.
      state_ = State::kClosing;
      write(std::string(kClosingTag));
      stream_->shutdown_after_writes();
      net::context_of(loop_).timers().arm(timer_, settings_.close_timeout_ms);
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

void UpstreamLink::report_end(bosh::Condition condition, std::string&& detail) {
  if (state_ == State::kDone) return;
  const bool was_closing = state_ == State::kClosing;
  state_ = State::kDone;
  if (stream_ != nullptr) stream_->close();
  bosh::UpstreamEvents* events = std::exchange(events_, nullptr);
  if (events != nullptr && !was_closing) events->upstream_closed(condition, std::move(detail));
}

void UpstreamLink::on_timer(net::TimerNode& node) {
  auto& self = *static_cast<UpstreamLink*>(node.owner);
  // The server did not close its side in time: close ours.
  if (self.stream_ != nullptr) self.stream_->close();
}

// ---------------------------------------------------------------------------
// From the server

void UpstreamLink::on_read(net::TcpStream&, std::string_view bytes) {
  framer_.feed(bytes, *this);
  if (events_ != nullptr) events_->upstream_batch_end();
}

void UpstreamLink::on_read_end(net::TcpStream&, int) {
  if (state_ == State::kClosing || owns_itself_) {
    if (stream_ != nullptr) stream_->close();
    return;
  }
  report_end(bosh::Condition::kRemoteConnectionFailed, {});
}

void UpstreamLink::on_write_error(net::TcpStream& stream, int status) { on_read_end(stream, status); }

void UpstreamLink::on_closed(net::TcpStream&) {
  stream_ = nullptr;
  net::TimerWheel::disarm(timer_);
  if (owns_itself_) delete this;
}

void UpstreamLink::stream_opened(std::string_view open_tag) {
  namespaces_ = xml::read_stream_namespaces(open_tag);
  if (events_ != nullptr) events_->upstream_opened(read_server_header(open_tag));
}

void UpstreamLink::stanza(std::string&& bytes) {
  if (events_ == nullptr) return;
  std::string element = xml::fix_server_element(std::move(bytes), namespaces_);
  const std::string_view name = xml::element_name(element);
  if (name == "stream:error") {
    report_end(bosh::Condition::kRemoteStreamError, std::move(element));
    return;
  }
  if (name == "stream:features" && xml::strip_starttls(element)) {
    // The server insists on TLS, which this link does not speak yet.
    report_end(bosh::Condition::kRemoteConnectionFailed, {});
    return;
  }
  events_->upstream_stanza(std::move(element));
}

void UpstreamLink::stream_closed() {
  if (state_ == State::kClosing || owns_itself_) {
    if (stream_ != nullptr) stream_->close();
    return;
  }
  report_end(bosh::Condition::kNone, {});
}

void UpstreamLink::framing_error(std::string_view) {
  // Garbage or an oversized stanza: the stream cannot be trusted any more.
  report_end(bosh::Condition::kRemoteConnectionFailed, {});
}

}  // namespace sb::xmpp
