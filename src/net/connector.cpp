// connect_tcp: one ConnectAttempt per outgoing connection, alive from connect_tcp()
// until its callback has run or it was cancelled.
//
// The attempt walks a list of addresses (one for a numeric host, the resolver's
// answer for a name) and tries them in order with a fresh TcpStream each. While it
// connects, the attempt is that stream's StreamHandler: every failed try ends with
// closing the stream, and on_closed() moves on to the next address or reports the
// failure. That one path also covers the timeout (close the half-open stream),
// cancellation (close it, then free the attempt) and errors that libuv returns
// synchronously, so the callback always runs from the loop, never from inside
// connect_tcp().
//
// With a source pool, a try binds its socket before connecting (bind_source). An
// unusable source (EADDRNOTAVAIL) makes the try fail like any other, but
// on_closed() then retries the same destination from the next source instead of
// moving on, until each source of the family was tried once.
//
// The timeout is a TimerNode on the loop's TimerWheel: it needs the LoopContext to
// be ticking, and it fires within one wheel tick after timeout_ms (0: at the next
// tick). It covers resolution and all tries together.
#include "net/connector.hpp"

#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <string_view>
#include <utility>

#include "base/check.hpp"
#include "base/timer_wheel.hpp"
#include "net/loop_context.hpp"
#include "net/source_pool.hpp"
#include "net/tcp_stream.hpp"

namespace sb::net {

class ConnectAttempt final : public StreamHandler {
 public:
  ConnectAttempt(uv_loop_t* loop, StreamHandler* handler, ConnectFn done, SourcePool* sources)
      : loop_(loop), handler_(handler), done_(std::move(done)), sources_(sources) {}
  ConnectAttempt(const ConnectAttempt&) = delete;
  ConnectAttempt& operator=(const ConnectAttempt&) = delete;
  ~ConnectAttempt() { uv_freeaddrinfo(addresses_); }

  void start(const std::string& host, std::uint16_t port, std::uint64_t timeout_ms);
  void cancel();

  // StreamHandler, for the stream being connected. Only on_closed can happen: the
  // stream is not reading and nothing is written before it is handed over.
  void on_read(TcpStream& /*stream*/, std::string_view /*bytes*/) override {}
  void on_read_end(TcpStream& /*stream*/, int /*status*/) override {}
  void on_write_error(TcpStream& /*stream*/, int /*status*/) override {}
  void on_closed(TcpStream& stream) override;

 private:
  static void on_resolved(uv_getaddrinfo_t* req, int status, addrinfo* result);
  static void on_connect(uv_connect_t* req, int status);
  static void on_timeout(base::TimerNode& node);

  const sockaddr* next_address();
  void try_next();
  void try_connect();
  int bind_source();
  void fail_soon(int status);
  void finish(int status, TcpStream* stream);

  uv_loop_t* loop_;
  StreamHandler* handler_;  // the caller's, for the connected stream
  ConnectFn done_;
  SourcePool* sources_;                // null or the pool to bind from
  const sockaddr* current_ = nullptr;  // the destination being tried
  std::uint64_t source_tries_ = 0;     // sources tried for current_
  bool retry_source_ = false;          // the try failed for its source: same destination again

  sockaddr_storage numeric_{};  // the address of a numeric host
  bool numeric_pending_ = false;
  addrinfo* addresses_ = nullptr;   // the resolver's answer, owned
  const addrinfo* next_ = nullptr;  // the next one to try

  uv_getaddrinfo_t resolve_req_{};
  uv_connect_t connect_req_{};
  TcpStream* stream_ = nullptr;  // the try in flight (or closing)
  base::OwnedTimerNode timeout_{on_timeout, this};

  int last_error_ = UV_EAI_NONAME;  // what to report when no address is left
  bool resolving_ = false;
  bool timed_out_ = false;
  bool cancelled_ = false;
};

namespace {

// A numeric IPv4 or IPv6 host ("[::1]" allowed) -> true and the address.
bool parse_numeric(std::string_view host, std::uint16_t port, sockaddr_storage& out) {
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']') {
    host = host.substr(1, host.size() - 2);
  }
  const std::string text(host);
  out = sockaddr_storage{};
  if (uv_ip4_addr(text.c_str(), port, reinterpret_cast<sockaddr_in*>(&out)) == 0) return true;
  out = sockaddr_storage{};
  return uv_ip6_addr(text.c_str(), port, reinterpret_cast<sockaddr_in6*>(&out)) == 0;
}

}  // namespace

void ConnectAttempt::start(const std::string& host, std::uint16_t port, std::uint64_t timeout_ms) {
  LoopContext& ctx = context_of(loop_);
  // arm_at from the loop's clock: the wheel's own clock lags by up to one tick.
  ctx.timers().arm_at(timeout_, ctx.now_ms() + timeout_ms);

  if (parse_numeric(host, port, numeric_)) {
    numeric_pending_ = true;
    try_next();
    return;
  }
  resolve_req_.data = this;
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = AI_NUMERICSERV;
  const std::string service = std::to_string(port);
  const int rc =
      uv_getaddrinfo(loop_, &resolve_req_, on_resolved, host.c_str(), service.c_str(), &hints);
  if (rc != 0) {
    fail_soon(rc);
    return;
  }
  resolving_ = true;
}

void ConnectAttempt::on_resolved(uv_getaddrinfo_t* req, int status, addrinfo* result) {
  auto* self = static_cast<ConnectAttempt*>(req->data);
  self->resolving_ = false;
  self->addresses_ = result;  // freed by the destructor whatever happens
  self->next_ = result;
  if (self->cancelled_) {
    delete self;
    return;
  }
  if (self->timed_out_) {
    self->finish(UV_ETIMEDOUT, nullptr);
    return;
  }
  if (status != 0) {
    self->finish(status, nullptr);
    return;
  }
  self->try_next();
}

const sockaddr* ConnectAttempt::next_address() {
  if (numeric_pending_) {
    numeric_pending_ = false;
    return reinterpret_cast<const sockaddr*>(&numeric_);
  }
  while (next_ != nullptr) {
    const addrinfo* candidate = next_;
    next_ = next_->ai_next;
    if (candidate->ai_family == AF_INET || candidate->ai_family == AF_INET6) {
      return candidate->ai_addr;
    }
  }
  return nullptr;
}

void ConnectAttempt::try_next() {
  current_ = next_address();
  source_tries_ = 0;
  if (current_ == nullptr) {
    finish(last_error_, nullptr);
    return;
  }
  try_connect();
}

// One try at current_, from the next source if there is a pool.
void ConnectAttempt::try_connect() {
  stream_ = TcpStream::create(loop_, this);
  connect_req_.data = this;
  int rc = bind_source();
  if (rc == 0) rc = uv_tcp_connect(&connect_req_, stream_->handle(), current_, on_connect);
  if (rc != 0) {
    last_error_ = rc;
    retry_source_ = rc == UV_EADDRNOTAVAIL;
    stream_->close();  // on_closed goes on with the next source or address
  }
}

// Makes the stream's socket bound to the pool's next address of current_'s
// family. 0 also when there is nothing to bind (uv_tcp_connect then makes the
// socket itself).
int ConnectAttempt::bind_source() {
  const int family = current_->sa_family;
  if (sources_ == nullptr) return 0;
  const std::uint64_t available = sources_->count(family);
  sockaddr_storage source{};
  if (available == 0 || !sources_->next(family, source)) return 0;
  ++source_tries_;
  const int fd = ::socket(family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) return -errno;
  const int on = 1;
  // Lets many sockets share a source address with port 0 until connect() picks a
  // port that is free for this four-tuple (Linux 4.2+); harmless if unsupported.
  ::setsockopt(fd, IPPROTO_IP, IP_BIND_ADDRESS_NO_PORT, &on, sizeof on);
  const socklen_t length = family == AF_INET6 ? sizeof(sockaddr_in6) : sizeof(sockaddr_in);
  if (::bind(fd, reinterpret_cast<const sockaddr*>(&source), length) != 0) {
    const int rc = -errno;
    ::close(fd);
    return rc;
  }
  if (const int rc = uv_tcp_open(stream_->handle(), fd); rc != 0) {
    ::close(fd);
    return rc;
  }
  return 0;
}

void ConnectAttempt::on_connect(uv_connect_t* req, int status) {
  auto* self = static_cast<ConnectAttempt*>(req->data);
  // We closed the stream ourselves (timeout, cancel): on_closed takes it from here.
  if (self->stream_->closing()) return;
  if (status != 0) {
    self->last_error_ = status;
    self->retry_source_ = status == UV_EADDRNOTAVAIL;
    self->stream_->close();
    return;
  }
  TcpStream* stream = self->stream_;
  uv_tcp_nodelay(stream->handle(), 1);
  stream->set_handler(self->handler_);
  self->finish(0, stream);
}

void ConnectAttempt::on_closed(TcpStream& /*stream*/) {
  stream_ = nullptr;
  if (cancelled_) {
    delete this;
    return;
  }
  if (timed_out_) {
    finish(UV_ETIMEDOUT, nullptr);
    return;
  }
  const bool retry = retry_source_ && current_ != nullptr && sources_ != nullptr &&
                     source_tries_ < sources_->count(current_->sa_family);
  retry_source_ = false;
  if (retry) {
    try_connect();
    return;
  }
  try_next();
}

void ConnectAttempt::on_timeout(base::TimerNode& node) {
  auto* self = static_cast<ConnectAttempt*>(base::OwnedTimerNode::owner_of(node));
  self->timed_out_ = true;
  if (self->resolving_) {
    // The resolver's callback still comes (UV_EAI_CANCELED, or the answer if the
    // lookup was already running) and reports the timeout.
    uv_cancel(reinterpret_cast<uv_req_t*>(&self->resolve_req_));
  } else if (self->stream_ != nullptr) {
    self->stream_->close();
  }
}

// Reports `status` from the loop rather than from the current call: a throw-away
// stream is closed and its on_closed() finds no address left.
void ConnectAttempt::fail_soon(int status) {
  last_error_ = status;
  next_ = nullptr;
  numeric_pending_ = false;
  stream_ = TcpStream::create(loop_, this);
  stream_->close();
}

void ConnectAttempt::cancel() {
  SB_CHECK(resolving_ || stream_ != nullptr, "a live attempt always has a request in flight");
  cancelled_ = true;
  base::TimerWheel::disarm(timeout_);
  if (resolving_) {
    uv_cancel(reinterpret_cast<uv_req_t*>(&resolve_req_));  // on_resolved frees us
  } else if (stream_ != nullptr) {
    stream_->close();  // on_closed frees us
  } else {
    delete this;  // not reachable (SB_CHECK above); freed rather than leaked if it were
  }
}

void ConnectAttempt::finish(int status, TcpStream* stream) {
  // Free the attempt before calling back: the handle is invalid from here on, and
  // the callback may start another attempt or end the loop.
  ConnectFn done = std::move(done_);
  delete this;
  done(status, stream);
}

ConnectAttempt* connect_tcp(uv_loop_t* loop, const std::string& host, std::uint16_t port,
                            std::uint64_t timeout_ms, StreamHandler* handler, ConnectFn done,
                            SourcePool* sources) {
  auto* attempt = new ConnectAttempt(loop, handler, std::move(done), sources);
  attempt->start(host, port, timeout_ms);
  return attempt;
}

void cancel_connect(ConnectAttempt* attempt) {
  if (attempt != nullptr) attempt->cancel();
}

}  // namespace sb::net
