// HttpConnection: one keep-alive HTTP/1.1 client connection of a simulated browser,
// carrying one request at a time (browsers do not pipeline) and parsing the answer
// with llhttp in response mode.
//
// It connects on demand (bound to the next --source address when there is a
// range), writes a request, and reports exactly one outcome per request to its
// owner: on_response(status, body) or on_failure(kind). Flaky mode lives here too:
// `cut_after` cuts the connection after the request was written, at once or
// part-way into the wait, before the answer is read, which is what a mobile link
// does to a browser (with the strophe profile the server's side gets a reset, as
// from a cut link); the owner then hears on_failure("drop") and resends.
//
// Memory: an idle connection is this object plus its TcpStream (the uv_tcp_t). The
// response body buffer is released after each answer, and one TimerNode serves as
// connect timeout, response timeout, cut time, write delay and idle timer (an
// idle connection asks its owner every --conn-idle ms whether it is a spare).
#pragma once

#include <llhttp.h>

#include <cstdint>
#include <string>
#include <string_view>

#include "base/timer_wheel.hpp"
#include "net/tcp_stream.hpp"
#include "tools/soak/dial.hpp"
#include "tools/soak/refusal.hpp"

namespace sb::soak {

struct Env;

class HttpConnection;

class HttpOwner {
 public:
  virtual void on_response(HttpConnection& conn, int status, std::string_view body) = 0;
  // "timeout", "transport", "drop" (our own cut), "connect".
  virtual void on_failure(HttpConnection& conn, const char* kind) = 0;
  // An idle connection went away (the server closed it, or it idled out).
  virtual void on_idle_closed(HttpConnection& conn) = 0;
  // The connection has been idle for --conn-idle ms: true closes it (it is a
  // spare beside another open connection), false keeps it for another period.
  virtual bool is_spare(const HttpConnection& conn) const = 0;

 protected:
  ~HttpOwner() = default;
};

class HttpConnection final : public net::StreamHandler {
 public:
  HttpConnection(Env& env, HttpOwner* owner);
  HttpConnection(const HttpConnection&) = delete;
  HttpConnection& operator=(const HttpConnection&) = delete;
  ~HttpConnection();  // closes the socket without telling the owner

  // Sends `body` as one POST: connects first if needed, after --delay plus
  // `later_ms` (a client's backoff). The answer (or a failure) comes within
  // timeout_ms of the write. cut_after_ms >= 0 cuts the connection that long after
  // the request was written (flaky mode); -1 never.
  void send(std::string_view body, std::uint64_t timeout_ms, std::int64_t cut_after_ms,
            std::uint64_t later_ms = 0);
  bool busy() const { return busy_; }
  // The last answer's Retry-After in seconds, -1 if it had none (refusal.hpp).
  std::int32_t retry_after() const { return retry_after_value(retry_after_); }
  bool open() const { return stream_ != nullptr; }
  void close();

  // net::StreamHandler
  void on_read(net::TcpStream& stream, std::string_view bytes) override;
  void on_read_end(net::TcpStream& stream, int status) override;
  void on_write_error(net::TcpStream& stream, int status) override;
  void on_closed(net::TcpStream& stream) override;

 private:
  enum class Phase : std::uint8_t { kIdle, kDelaying, kConnecting, kWaiting };
  static void on_connect(void* self, int status);
  static void on_timer(base::TimerNode& node);
  static int on_body(llhttp_t* parser, const char* at, std::size_t length);
  static int on_header_field(llhttp_t* parser, const char* at, std::size_t length);
  static int on_header_value(llhttp_t* parser, const char* at, std::size_t length);
  static int on_header_value_complete(llhttp_t* parser);
  static int on_message_complete(llhttp_t* parser);

  void connect();
  void arm_idle();
  void write_request();
  void cut();
  void fail(const char* kind);
  void drop_stream();

  Env& env_;
  HttpOwner* owner_;
  net::TcpStream* stream_ = nullptr;
  Dial* connecting_ = nullptr;
  std::string out_;   // the request in flight (kept until written)
  std::string body_;  // the answer being read
  llhttp_t parser_{};
  base::OwnedTimerNode timer_{on_timer, this};
  std::uint64_t deadline_ms_ = 0;  // response timeout
  std::int64_t cut_after_ms_ = -1;
  std::int32_t retry_after_ = -1;  // feed_retry_after()'s accumulator
  RetryAfterMatcher header_;       // the header name being read
  Phase phase_ = Phase::kIdle;
  bool busy_ = false;
  bool complete_ = false;
};

}  // namespace sb::soak
