// HttpConnection: connect (optionally from a bound source address), write one
// request, parse one response, and the single timer that guards each phase.
//
// The one rule that keeps the owner simple: every send() ends in exactly one
// on_response() or on_failure(), always from the loop (never from inside send()),
// and after a failure the socket is gone, so the next send() connects afresh.
#include "tools/soak/http_connection.hpp"

#include <sys/socket.h>
#include <time.h>

#include "net/loop_context.hpp"
#include "tools/soak/env.hpp"

namespace sb::soak {

std::uint64_t mono_ns() {
  timespec ts{};
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<std::uint64_t>(ts.tv_sec) * 1'000'000'000u +
         static_cast<std::uint64_t>(ts.tv_nsec);
}

namespace {

llhttp_settings_t make_settings(llhttp_data_cb body, llhttp_cb complete, llhttp_data_cb field,
                                llhttp_data_cb value, llhttp_cb value_complete) {
  llhttp_settings_t s;
  llhttp_settings_init(&s);
  s.on_body = body;
  s.on_message_complete = complete;
  s.on_header_field = field;
  s.on_header_value = value;
  s.on_header_value_complete = value_complete;
  return s;
}

}  // namespace

HttpConnection::HttpConnection(Env& env, HttpOwner* owner) : env_(env), owner_(owner) {}

HttpConnection::~HttpConnection() { drop_stream(); }

void HttpConnection::drop_stream() {
  base::TimerWheel::disarm(timer_);
  Dial::abandon(connecting_);
  close_stream(stream_);
  std::string().swap(body_);
}

void HttpConnection::close() {
  drop_stream();
  phase_ = Phase::kIdle;
  busy_ = false;
  std::string().swap(out_);
}

void HttpConnection::send(std::string_view body, std::uint64_t timeout_ms,
                          std::int64_t cut_after_ms, std::uint64_t later_ms) {
  busy_ = true;
  complete_ = false;
  cut_after_ms_ = cut_after_ms;
  const std::uint64_t delay = env_.options->delay_ms + later_ms;
  deadline_ms_ = env_.now_ms() + delay + timeout_ms;
  const std::string& head = env_.request_head;
  out_.clear();
  out_.reserve(head.size() + body.size() + 24);
  out_.append(head);
  out_.append("Content-Length: ");
  out_.append(std::to_string(body.size()));
  out_.append("\r\n\r\n");
  out_.append(body);
  phase_ = Phase::kDelaying;
  if (delay == 0) {
    // Neither path calls the owner back from here: a connect reports from the loop.
    if (stream_ != nullptr) {
      write_request();
    } else {
      connect();
    }
    return;
  }
  env_.context->timers().arm_at(timer_, env_.now_ms() + delay);
}

void HttpConnection::connect() {
  phase_ = Phase::kConnecting;
  ++env_.interval.tally.connections;
  stream_ = net::TcpStream::create(env_.loop, this);
  if (Dial::start(env_, *stream_, this, on_connect, connecting_) != 0) {
    // Reported from the loop, like every outcome: a zero-delay timer.
    phase_ = Phase::kConnecting;
    deadline_ms_ = env_.now_ms();
    env_.context->timers().arm_at(timer_, env_.now_ms());
    return;
  }
  env_.context->timers().arm_at(timer_, env_.now_ms() + env_.options->connect_timeout_ms);
}

void HttpConnection::on_connect(void* owner, int status) {
  auto* self = static_cast<HttpConnection*>(owner);
  self->connecting_ = nullptr;
  if (status != 0) {
    self->fail("connect");
    return;
  }
  uv_tcp_nodelay(self->stream_->handle(), 1);
  self->write_request();
}

void HttpConnection::write_request() {
  llhttp_init(&parser_, HTTP_RESPONSE, nullptr);
  static const llhttp_settings_t settings = make_settings(
      on_body, on_message_complete, on_header_field, on_header_value, on_header_value_complete);
  parser_.settings = const_cast<llhttp_settings_t*>(&settings);
  parser_.data = this;
  retry_after_ = -1;
  header_ = RetryAfterMatcher{};
  phase_ = Phase::kWaiting;
  ++env_.interval.tally.requests;
  stream_->write(std::move(out_));
  out_ = std::string();
  const bool cut_now = cut_after_ms_ == 0;
  // Cut "at once": the answer must not be read, so reading does not even start.
  if (!cut_now) stream_->start_reading();
  std::uint64_t at = deadline_ms_;
  if (cut_after_ms_ >= 0) {
    const std::uint64_t cut_at = env_.now_ms() + static_cast<std::uint64_t>(cut_after_ms_);
    if (cut_at < at) at = cut_at;
  }
  env_.context->timers().arm_at(timer_, at);
}

void HttpConnection::on_timer(base::TimerNode& node) {
  auto* self = static_cast<HttpConnection*>(base::OwnedTimerNode::owner_of(node));
  switch (self->phase_) {
    case Phase::kIdle:
      if (self->stream_ == nullptr) return;
      if (!self->owner_->is_spare(*self)) {
        self->arm_idle();
        return;
      }
      self->drop_stream();
      self->owner_->on_idle_closed(*self);
      return;
    case Phase::kDelaying:
      if (self->stream_ != nullptr) {
        self->write_request();
      } else {
        self->connect();
      }
      return;
    case Phase::kConnecting:
      self->fail(self->env_.now_ms() >= self->deadline_ms_ && self->connecting_ == nullptr
                     ? "connect"
                     : "timeout");
      return;
    case Phase::kWaiting:
      if (self->cut_after_ms_ >= 0 && self->env_.now_ms() < self->deadline_ms_) {
        ++self->env_.interval.tally.drops;
        self->cut();
      } else {
        self->fail("timeout");
      }
      return;
  }
}

// A --drop cut. The strophe profile cuts as a link does: the server's side gets a
// reset (RST: its next read fails, whatever it had not read is gone), and the
// transport holds its next requests back for --cut-delay ms (bosh_transport.cpp).
// The classic profile just closes its socket.
void HttpConnection::cut() {
  if (env_.options->client == BoshClient::kStrophe && stream_ != nullptr) {
    uv_os_fd_t fd;
    if (uv_fileno(reinterpret_cast<uv_handle_t*>(stream_->handle()), &fd) == 0) {
      linger reset{1, 0};
      setsockopt(fd, SOL_SOCKET, SO_LINGER, &reset, sizeof reset);
    }
  }
  fail("drop");
}

void HttpConnection::fail(const char* kind) {
  drop_stream();
  phase_ = Phase::kIdle;
  busy_ = false;
  std::string().swap(out_);
  owner_->on_failure(*this, kind);
}

void HttpConnection::arm_idle() {
  env_.context->timers().arm_at(timer_, env_.now_ms() + env_.options->conn_idle_ms);
}

int HttpConnection::on_body(llhttp_t* parser, const char* at, std::size_t length) {
  static_cast<HttpConnection*>(parser->data)->body_.append(at, length);
  return 0;
}

int HttpConnection::on_header_field(llhttp_t* parser, const char* at, std::size_t length) {
  static_cast<HttpConnection*>(parser->data)->header_.feed(std::string_view(at, length));
  return 0;
}

int HttpConnection::on_header_value(llhttp_t* parser, const char* at, std::size_t length) {
  auto* self = static_cast<HttpConnection*>(parser->data);
  if (self->header_.matched()) feed_retry_after(self->retry_after_, std::string_view(at, length));
  return 0;
}

int HttpConnection::on_header_value_complete(llhttp_t* parser) {
  static_cast<HttpConnection*>(parser->data)->header_ = RetryAfterMatcher{};
  return 0;
}

int HttpConnection::on_message_complete(llhttp_t* parser) {
  static_cast<HttpConnection*>(parser->data)->complete_ = true;
  return HPE_PAUSED;
}

void HttpConnection::on_read(net::TcpStream& /*stream*/, std::string_view bytes) {
  if (phase_ == Phase::kDelaying) {
    // Bytes nobody asked for while a request waits for its time: it goes out on
    // a new connection then (the timer stays armed).
    close_stream(stream_);
    return;
  }
  if (phase_ != Phase::kWaiting) {
    // Bytes nobody asked for: the connection is not usable any more.
    drop_stream();
    owner_->on_idle_closed(*this);
    return;
  }
  const llhttp_errno_t rc = llhttp_execute(&parser_, bytes.data(), bytes.size());
  if (rc != HPE_OK && rc != HPE_PAUSED) {
    fail("http_parse");
    return;
  }
  if (!complete_) return;
  if (cut_after_ms_ > 0) ++env_.cut_debt;  // answered before its planned cut
  const int status = parser_.status_code;
  const bool keep = llhttp_should_keep_alive(&parser_) != 0;
  base::TimerWheel::disarm(timer_);
  phase_ = Phase::kIdle;
  busy_ = false;
  std::string body;
  body.swap(body_);
  if (keep) {
    arm_idle();
  } else {
    drop_stream();
  }
  owner_->on_response(*this, status, body);
}

void HttpConnection::on_read_end(net::TcpStream& /*stream*/, int /*status*/) {
  if (phase_ == Phase::kWaiting) {
    fail("transport");
    return;
  }
  if (phase_ == Phase::kDelaying) {
    // The server closed the kept-alive connection while a request waits for its
    // time: it goes out on a new one then (the timer stays armed).
    close_stream(stream_);
    return;
  }
  drop_stream();
  owner_->on_idle_closed(*this);
}

void HttpConnection::on_write_error(net::TcpStream& /*stream*/, int /*status*/) {
  if (busy_) {
    fail("transport");
  } else {
    drop_stream();
    owner_->on_idle_closed(*this);
  }
}

void HttpConnection::on_closed(net::TcpStream& /*stream*/) {
  // Only reached for a stream we did not detach first; nothing left to do.
  stream_ = nullptr;
}

}  // namespace sb::soak
