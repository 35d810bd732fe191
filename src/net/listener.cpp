// Listener: our own listening socket (SO_REUSEPORT), a uv_poll_t that says when
// connections wait, and accept4() to take them. See listener.hpp for why this is not
// a uv_listen'ed uv_tcp_t.
//
// Each accepted socket is handed to libuv with uv_tcp_open inside a new TcpStream,
// which from then on owns it exactly as if uv_accept had produced it.
#include "net/listener.hpp"

#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <charconv>
#include <string_view>

#include "net/tcp_stream.hpp"

namespace sb::net {

namespace {

// "1.2.3.4:80" or "[::1]:80" -> a socket address. Names are not accepted: a
// listener binds interfaces, and resolving at bind time hides configuration errors.
int parse_address(std::string_view text, sockaddr_storage& out, std::string& error) {
  error = "expected ip:port or [ipv6]:port, got '" + std::string(text) + "'";
  std::string_view host;
  std::string_view port_text;
  if (!text.empty() && text.front() == '[') {
    const std::size_t close = text.find(']');
    if (close == std::string_view::npos || close + 1 >= text.size() || text[close + 1] != ':') {
      return UV_EINVAL;
    }
    host = text.substr(1, close - 1);
    port_text = text.substr(close + 2);
  } else {
    const std::size_t colon = text.rfind(':');
    if (colon == std::string_view::npos || text.find(':') != colon) return UV_EINVAL;
    host = text.substr(0, colon);
    port_text = text.substr(colon + 1);
  }
  unsigned int port = 0;
  const auto [end, ec] =
      std::from_chars(port_text.data(), port_text.data() + port_text.size(), port);
  if (port_text.empty() || ec != std::errc() || end != port_text.data() + port_text.size() ||
      port > 65535) {
    return UV_EINVAL;
  }
  const std::string host_string(host);
  const int port_number = static_cast<int>(port);
  out = sockaddr_storage{};
  const bool bracketed = text.front() == '[';
  const int rc =
      bracketed
          ? uv_ip6_addr(host_string.c_str(), port_number, reinterpret_cast<sockaddr_in6*>(&out))
          : uv_ip4_addr(host_string.c_str(), port_number, reinterpret_cast<sockaddr_in*>(&out));
  if (rc != 0) {
    error = "not a numeric " + std::string(bracketed ? "IPv6" : "IPv4") + " address: '" +
            host_string + "'";
    return UV_EINVAL;
  }
  error.clear();
  return 0;
}

int fail(int fd, const char* what, const std::string& address, std::string& error) {
  const int rc = -errno;  // on Unix the UV_E* codes are the negated errno values
  if (fd >= 0) ::close(fd);
  error = std::string(what) + " " + address + ": " + uv_strerror(rc);
  return rc;
}

}  // namespace

Listener::Listener(uv_loop_t* loop, AcceptFn on_accept)
    : loop_(loop), on_accept_(std::move(on_accept)) {}

Listener::~Listener() {
  close();
  while (handles_open_ > 0) uv_run(loop_, UV_RUN_NOWAIT);
}

int Listener::listen(const std::string& address, int backlog, std::string& error) {
  if (state_ != State::kIdle) {
    error = "listener already used";
    return UV_EINVAL;
  }
  if (const int rc = parse_address(address, addr_, error); rc != 0) return rc;
  address_ = address;
  backlog_ = backlog;
  if (const int rc = open_socket(error); rc != 0) return rc;
  start_listening();
  return 0;
}

// The socket is open and watched: the back-off timer, and accepting.
void Listener::start_listening() {
  uv_timer_init(loop_, &backoff_);
  backoff_.data = this;
  ++handles_open_;
  state_ = State::kListening;
  update_polling();
}

int Listener::listen_inherited(int fd, const std::string& address, std::string& error) {
  if (state_ != State::kIdle) {
    ::close(fd);
    error = "listener already used";
    return UV_EINVAL;
  }
  if (const int rc = parse_address(address, addr_, error); rc != 0) {
    ::close(fd);
    return rc;
  }
  address_ = address;
  backlog_ = 4096;  // what reopen() listens with; the kernel keeps the socket's own
  socklen_t bound_length = sizeof addr_;
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr_), &bound_length);
  const int flags = ::fcntl(fd, F_GETFL);
  if (flags < 0 || ::fcntl(fd, F_SETFL, flags | O_NONBLOCK) != 0) {
    return fail(fd, "make non-blocking", address, error);
  }
  if (const int rc = watch_socket(fd, error); rc != 0) return rc;
  start_listening();
  return 0;
}

int Listener::reopen(std::string& error) {
  if (state_ != State::kSuspended) {
    error = "listener not suspended";
    return UV_EINVAL;
  }
  if (const int rc = open_socket(error); rc != 0) return rc;
  state_ = State::kListening;
  update_polling();
  return 0;
}

void Listener::suspend() {
  if (state_ != State::kListening) return;
  state_ = State::kSuspended;
  backing_off_ = false;
  uv_timer_stop(&backoff_);
  close_socket();
}

// Binds addr_ and listens, with a fresh poll handle on the new socket. The first
// bind fixes the port for good (port 0 picks one), so a reopen() comes back to it.
int Listener::open_socket(std::string& error) {
  const std::string& address = address_;
  sockaddr_storage& addr = addr_;

  const int fd = ::socket(addr.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) return fail(fd, "socket for", address, error);
  const int on = 1;
  if (::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof on) != 0 ||
      ::setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &on, sizeof on) != 0) {
    return fail(fd, "setsockopt on", address, error);
  }
  const socklen_t length = addr.ss_family == AF_INET6 ? sizeof(sockaddr_in6) : sizeof(sockaddr_in);
  if (::bind(fd, reinterpret_cast<const sockaddr*>(&addr), length) != 0) {
    return fail(fd, "bind", address, error);
  }
  if (::listen(fd, backlog_) != 0) return fail(fd, "listen on", address, error);
  socklen_t bound_length = sizeof addr;
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &bound_length);
  return watch_socket(fd, error);
}

// A fresh poll handle on the listening socket `fd`, which is ours from now on.
int Listener::watch_socket(int fd, std::string& error) {
  const std::string& address = address_;
  auto* poll = new uv_poll_t{};
  if (const int rc = uv_poll_init_socket(loop_, poll, fd); rc != 0) {
    delete poll;
    ::close(fd);
    error = "watch " + address + ": " + uv_strerror(rc);
    return rc;
  }
  poll->data = this;
  ++handles_open_;
  poll_ = poll;
  fd_ = fd;
  return 0;
}

// Closing a poll handle stops watching at once, so the socket can go now: the port
// is released (or the queue migrated) before this returns.
void Listener::close_socket() {
  polling_ = false;
  uv_close(reinterpret_cast<uv_handle_t*>(poll_), on_handle_closed);
  poll_ = nullptr;
  ::close(fd_);
  fd_ = -1;
}

int Listener::bound_port() const {
  if (fd_ < 0) return 0;
  sockaddr_storage addr{};
  socklen_t length = sizeof addr;
  if (::getsockname(fd_, reinterpret_cast<sockaddr*>(&addr), &length) != 0) return 0;
  if (addr.ss_family == AF_INET6) {
    return ntohs(reinterpret_cast<const sockaddr_in6*>(&addr)->sin6_port);
  }
  return ntohs(reinterpret_cast<const sockaddr_in*>(&addr)->sin_port);
}

void Listener::pause() {
  paused_ = true;
  update_polling();
}

void Listener::resume() {
  paused_ = false;
  update_polling();
}

// Watches the socket exactly when we are listening and neither paused nor backing off.
void Listener::update_polling() {
  const bool want = state_ == State::kListening && !paused_ && !backing_off_;
  if (want == polling_) return;
  polling_ = want;
  if (want) {
    uv_poll_start(poll_, UV_READABLE, on_readable);
  } else {
    uv_poll_stop(poll_);
  }
}

void Listener::close() {
  if (state_ == State::kIdle) state_ = State::kClosed;
  if (state_ != State::kListening && state_ != State::kSuspended) return;
  if (state_ == State::kListening) close_socket();
  state_ = State::kClosing;
  polling_ = false;
  uv_close(reinterpret_cast<uv_handle_t*>(&backoff_), on_handle_closed);
}

void Listener::on_handle_closed(uv_handle_t* handle) {
  auto* self = static_cast<Listener*>(handle->data);
  if (handle->type == UV_POLL) delete reinterpret_cast<uv_poll_t*>(handle);
  if (--self->handles_open_ == 0 && self->state_ == State::kClosing) {
    self->state_ = State::kClosed;
  }
}

void Listener::on_readable(uv_poll_t* poll, int status, int /*events*/) {
  auto* self = static_cast<Listener*>(poll->data);
  if (status < 0) {
    self->back_off();  // the socket is in trouble; try again later rather than spin
    return;
  }
  self->accept_some();
}

// Accepts up to kAcceptBatch connections. The poll is level-triggered, so whatever
// is left wakes us again on the next loop iteration, after other sockets had a turn.
void Listener::accept_some() {
  for (int i = 0; i < kAcceptBatch; ++i) {
    // on_accept_ may pause or close us.
    if (!polling_) return;
    const int fd = ::accept4(fd_, nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (fd >= 0) {
      adopt(fd);
      continue;
    }
    switch (errno) {
      case EAGAIN:
#if EWOULDBLOCK != EAGAIN
      case EWOULDBLOCK:
#endif
        return;
      case EINTR:
      case ECONNABORTED:
      case EPERM:  // a firewall rule refused this one connection
      // The network errors Linux passes on from the new socket (see accept(2)).
      case ENETDOWN:
      case EPROTO:
      case ENOPROTOOPT:
      case EHOSTDOWN:
      case ENONET:
      case EHOSTUNREACH:
      case EOPNOTSUPP:
      case ENETUNREACH: continue;
      default:
        // EMFILE, ENFILE, ENOBUFS, ENOMEM, or worse: the connections stay in the
        // backlog until something is freed. Retrying at once would only spin.
        back_off();
        return;
    }
  }
}

void Listener::adopt(int fd) {
  TcpStream* stream = TcpStream::open(loop_, fd);
  if (stream == nullptr) return;
  uv_tcp_nodelay(stream->handle(), 1);
  on_accept_(*stream);
}

void Listener::back_off() {
  if (backing_off_) return;
  backing_off_ = true;
  update_polling();
  uv_timer_start(&backoff_, on_backoff_end, kBackoffMs, 0);
}

void Listener::on_backoff_end(uv_timer_t* timer) {
  auto* self = static_cast<Listener*>(timer->data);
  self->backing_off_ = false;
  self->update_polling();
}

}  // namespace sb::net
