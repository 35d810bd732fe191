// TlsRelay; see tls_relay.hpp.
#include "app/handover/tls_relay.hpp"

#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace sb::app {

namespace {
std::size_t g_live_relays = 0;

// A TcpStream on one end of a socketpair (libuv's TCP handle serves any stream
// socket; only the peer address is missing).
net::TcpStream* open_stream(uv_loop_t* loop, int fd, net::StreamHandler* handler,
                            std::string& error) {
  net::TcpStream* stream = net::TcpStream::create(loop, handler);
  const int rc = uv_tcp_open(stream->handle(), fd);
  if (rc != 0) {
    error = std::string("socketpair: ") + uv_strerror(rc);
    ::close(fd);
    stream->set_handler(nullptr);
    stream->close();
    return nullptr;
  }
  return stream;
}
}  // namespace

std::size_t TlsRelay::live_count() { return g_live_relays; }

TlsRelay::TlsRelay() {
  ++g_live_relays;
  tls_.relay = local_.relay = this;
  tls_.other = &local_;
  local_.other = &tls_;
}

TlsRelay::~TlsRelay() { --g_live_relays; }

net::TcpStream* TlsRelay::start(uv_loop_t* loop, HttpSocket& socket, std::string& error) {
  int fds[2];
  if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, fds) != 0) {
    error = std::string("socketpair: ") + std::strerror(errno);
    return nullptr;
  }
  auto* relay = new TlsRelay;  // frees itself once both streams are closed
  net::TcpStream* far = open_stream(loop, fds[1], nullptr, error);
  if (far == nullptr) {
    ::close(fds[0]);
    delete relay;
    return nullptr;
  }
  net::TcpStream* local = open_stream(loop, fds[0], &relay->local_, error);
  if (local == nullptr) {
    far->close();
    delete relay;
    return nullptr;
  }
  relay->local_.stream = local;
  net::TcpStream& tls = socket.begin_relay();
  relay->tls_.stream = &tls;
  tls.set_handler(&relay->tls_);
  if (local->start_reading() != 0 || tls.start_reading() != 0) {
    relay->end(relay->tls_);
  }
  return far;
}

void TlsRelay::Side::on_read(net::TcpStream& s, std::string_view bytes) {
  if (other->closed || other->stream->closing()) return;
  other->stream->write_copy(bytes, {});
  if (other->stream->queued_bytes() > kHighWaterBytes) s.stop_reading();
}

void TlsRelay::Side::on_drained(net::TcpStream&) {
  if (other->done || other->closed) {
    // The other side has ended: what it sent is now out, so this one can close.
    stream->close();
    return;
  }
  if (!other->closed && !other->stream->closing() && !other->stream->reading()) {
    other->stream->start_reading();
  }
}

void TlsRelay::Side::on_read_end(net::TcpStream&, int) { relay->end(*this); }

void TlsRelay::Side::on_write_error(net::TcpStream&, int) {
  // This side's peer is gone: nothing more can reach it, so stop the other too.
  done = true;
  stream->close();
  if (!other->closed) other->stream->close();
}

void TlsRelay::end(Side& side) {
  // `side` sent its last byte: pass the end on, then let `side` go.
  side.done = true;
  Side& other = *side.other;
  if (!other.closed && !other.stream->closing()) {
    other.stream->shutdown_after_writes();
    if (other.stream->queued_bytes() == 0) other.stream->close();
  }
  side.stream->close();
}

void TlsRelay::Side::on_closed(net::TcpStream&) {
  closed = true;
  if (!other->closed) {
    if (!other->stream->closing() && other->stream->queued_bytes() == 0) other->stream->close();
    return;
  }
  delete relay;
}

}  // namespace sb::app
