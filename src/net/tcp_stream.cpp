// TcpStream: one libuv TCP handle with an ordered write queue and a self-owned
// lifecycle (open -> closing -> closed, then `delete this`).
//
// Writes: when nothing is queued, uv_try_write hands the bytes straight to the kernel
// and usually nothing is allocated. Only the remainder the kernel did not take goes
// into a WriteRequest, which owns the buffers (the head string and the shared body)
// until libuv's write callback. libuv keeps requests in order, so the order of
// write() calls is the order on the wire.
//
// Closing: uv_close makes libuv complete every pending write with UV_ECANCELED and
// then call the close callback; the handler hears on_closed() and the object is
// freed there, never while one of its own callbacks is on the stack.
#include "net/tcp_stream.hpp"

#include <unistd.h>

#include <array>
#include <type_traits>
#include <utility>

#include "net/loop_context.hpp"

namespace sb::net {

namespace {

std::size_t g_live_streams = 0;

uv_buf_t make_buf(const char* data, std::size_t size) {
  uv_buf_t buf;
  buf.base = const_cast<char*>(data);  // libuv only reads write buffers
  buf.len = size;
  return buf;
}

// The bytes of `head` then `body` that come after the first `skip` bytes, as at most
// two libuv buffers. Returns how many buffers were filled.
unsigned int buffers_after(const std::string& head, const std::string* body, std::size_t skip,
                           std::array<uv_buf_t, 2>& bufs) {
  unsigned int count = 0;
  if (skip < head.size()) {
    bufs[count++] = make_buf(head.data() + skip, head.size() - skip);
    skip = 0;
  } else {
    skip -= head.size();
  }
  if (body != nullptr && skip < body->size()) {
    bufs[count++] = make_buf(body->data() + skip, body->size() - skip);
  }
  return count;
}

}  // namespace

// One uv_write in flight: owns what its buffers point into until the callback.
struct TcpStream::WriteRequest {
  uv_write_t req{};
  std::string head;
  std::shared_ptr<const std::string> body;
  std::size_t bytes = 0;  // what this request added to queued_bytes_
};

TcpStream* TcpStream::create(uv_loop_t* loop, StreamHandler* handler) {
  return new TcpStream(loop, handler);
}

TcpStream* TcpStream::open(uv_loop_t* loop, int fd) {
  TcpStream* stream = create(loop, nullptr);
  if (uv_tcp_open(stream->handle(), fd) != 0) {
    ::close(fd);  // libuv did not take it
    stream->close();
    return nullptr;
  }
  return stream;
}

TcpStream::TcpStream(uv_loop_t* loop, StreamHandler* handler) {
  // uv_tcp_init without a family creates no socket and cannot fail.
  uv_tcp_init(loop, &tcp_);
  set_handler(handler);
  ++g_live_streams;
}

TcpStream* TcpStream::from(void* handle) {
  // tcp_ is the first member of a standard-layout class: the two addresses are one.
  static_assert(std::is_standard_layout_v<TcpStream>);
  return reinterpret_cast<TcpStream*>(handle);
}

std::size_t TcpStream::live_count() { return g_live_streams; }

int TcpStream::start_reading() {
  if (closing_) return UV_EINVAL;
  if (read_ended_) return UV_EOF;
  if (reading_) return 0;
  const int rc = uv_read_start(stream(), LoopContext::alloc_shared, on_read_cb);
  if (rc == 0) reading_ = true;
  return rc;
}

void TcpStream::stop_reading() {
  if (!reading_) return;
  reading_ = false;
  uv_read_stop(stream());
}

void TcpStream::on_read_cb(uv_stream_t* s, ssize_t nread, const uv_buf_t* buf) {
  auto* self = from(s);
  if (nread > 0) {
    if (self->socket_handler() != nullptr) {
      self->socket_handler()->on_read(*self,
                                      std::string_view(buf->base, static_cast<std::size_t>(nread)));
    }
    return;
  }
  // nread == 0 is libuv's "nothing this time" (EAGAIN); the shared buffer means
  // UV_ENOBUFS cannot happen. Anything negative ends the read side, once.
  if (nread == 0) return;
  self->stop_reading();
  if (self->read_ended_ || self->closing_) return;
  self->read_ended_ = true;
  if (self->socket_handler() != nullptr) {
    self->socket_handler()->on_read_end(*self, static_cast<int>(nread));
  }
}

void TcpStream::attach_filter(StreamFilter* filter) {
  if (filtered_ || filter == nullptr) return;
  filter->set_inner(socket_handler());
  tcp_.data = filter;
  filtered_ = true;
}

void TcpStream::write(std::string bytes) { write(std::move(bytes), nullptr); }

void TcpStream::write(std::string head, std::shared_ptr<const std::string> body) {
  if (filtered_) {
    if (closing_ || shutdown_requested_ || write_failed_) return;
    filter()->filter_write(head, body ? std::string_view(*body) : std::string_view());
    return;
  }
  write_socket(std::move(head), std::move(body));
}

void TcpStream::write_socket(std::string head, std::shared_ptr<const std::string> body) {
  if (closing_ || shutdown_requested_ || write_failed_) return;
  const std::size_t total = head.size() + (body ? body->size() : 0);
  if (total == 0) return;

  std::array<uv_buf_t, 2> bufs{};
  std::size_t written = 0;
  if (queued_bytes_ == 0) {
    // Fast path: nothing queued, so the kernel may take it all with no allocation.
    // uv_try_write itself refuses (UV_EAGAIN) while a connect is pending.
    const unsigned int count = buffers_after(head, body.get(), 0, bufs);
    const int rc = uv_try_write(stream(), bufs.data(), count);
    if (rc > 0) written = static_cast<std::size_t>(rc);
    if (written == total) return;
    // On a real error (peer gone) fall through: uv_write meets the same error and
    // reports it through the write callback, from the loop rather than from here.
  }

  if (total - written > UINT32_MAX - queued_bytes_) {
    // A 4 GiB backlog: the peer has not read for a long time and every writer
    // bounds its queue long before this. Dropping is what a dead peer gets.
    write_failed_ = true;
    return;
  }
  auto* request = new WriteRequest;
  request->head = std::move(head);  // move before taking pointers: SSO moves the bytes
  request->body = std::move(body);
  request->bytes = total - written;
  request->req.data = request;
  const unsigned int count = buffers_after(request->head, request->body.get(), written, bufs);
  const int rc = uv_write(&request->req, stream(), bufs.data(), count, on_write_cb);
  if (rc < 0) {
    // libuv refuses at once only when the write side is already known dead: a read
    // error (which on_read_end reported) or a socket that never connected. Calling
    // the handler from inside write() would surprise its caller, and the handler has
    // heard of the failure already, so the bytes are dropped.
    delete request;
    write_failed_ = true;
    return;
  }
  queued_bytes_ += static_cast<std::uint32_t>(request->bytes);
}

void TcpStream::write_copy(std::string_view first, std::string_view second) {
  if (closing_ || shutdown_requested_ || write_failed_) return;
  if (filtered_) {
    filter()->filter_write(first, second);
    return;
  }
  const std::size_t total = first.size() + second.size();
  if (total == 0) return;
  std::size_t written = 0;
  if (queued_bytes_ == 0) {
    std::array<uv_buf_t, 2> bufs{make_buf(first.data(), first.size()),
                                 make_buf(second.data(), second.size())};
    const int rc = uv_try_write(stream(), bufs.data(), 2);
    if (rc > 0) written = static_cast<std::size_t>(rc);
    if (written == total) return;
  }
  // The rest, copied once into one string for the queued write.
  std::string rest;
  rest.reserve(total - written);
  if (written < first.size()) {
    rest.append(first.substr(written));
    rest.append(second);
  } else {
    rest.append(second.substr(written - first.size()));
  }
  // write_socket() would try the kernel again first only with nothing queued; the
  // kernel just refused, so that try is cheap and keeps the ordering logic in one place.
  write_socket(std::move(rest), nullptr);
}

void TcpStream::on_write_cb(uv_write_t* req, int status) {
  auto* request = static_cast<WriteRequest*>(req->data);
  auto* self = from(req->handle);
  self->queued_bytes_ -= static_cast<std::uint32_t>(request->bytes);
  delete request;
  // Once closing, UV_ECANCELED and everything else is nobody's business.
  StreamHandler* handler = self->socket_handler();
  if (self->closing_ || handler == nullptr) return;
  if (status < 0) {
    if (!self->write_failed_) {
      self->write_failed_ = true;
      handler->on_write_error(*self, status);
    }
    return;
  }
  if (self->queued_bytes_ == 0 && !self->write_failed_) handler->on_drained(*self);
}

void TcpStream::shutdown_after_writes() {
  if (closing_ || shutdown_requested_) return;
  if (filtered_ && !write_failed_) filter()->filter_shutdown();  // e.g. TLS close_notify
  shutdown_requested_ = true;
  // Rare enough to allocate: keeps every stream a uv_shutdown_t smaller.
  auto* req = new uv_shutdown_t;
  req->data = this;
  if (uv_shutdown(req, stream(), on_shutdown_cb) < 0) delete req;
}

void TcpStream::on_shutdown_cb(uv_shutdown_t* req, int /*status*/) {
  // A failed half-close needs no report: the read side or the next write will see
  // the same broken connection.
  delete req;
}

void TcpStream::close() {
  if (closing_) return;
  closing_ = true;
  reading_ = false;
  uv_close(reinterpret_cast<uv_handle_t*>(&tcp_), on_close_cb);
}

void TcpStream::on_close_cb(uv_handle_t* h) {
  auto* self = from(h);
  // libuv has already run every write and shutdown callback (with UV_ECANCELED).
  if (self->socket_handler() != nullptr) self->socket_handler()->on_closed(*self);
  --g_live_streams;
  delete self;
}

std::string TcpStream::peer_ip() const {
  sockaddr_storage storage{};
  int length = sizeof storage;
  if (uv_tcp_getpeername(&tcp_, reinterpret_cast<sockaddr*>(&storage), &length) != 0) return {};
  std::array<char, 64> text{};
  int rc = -1;
  if (storage.ss_family == AF_INET) {
    rc = uv_ip4_name(reinterpret_cast<const sockaddr_in*>(&storage), text.data(), text.size());
  } else if (storage.ss_family == AF_INET6) {
    const auto* in6 = reinterpret_cast<const sockaddr_in6*>(&storage);
    if (IN6_IS_ADDR_V4MAPPED(&in6->sin6_addr)) {
      // A dual-stack listener sees IPv4 clients as ::ffff:a.b.c.d; show a.b.c.d.
      rc = uv_inet_ntop(AF_INET, &in6->sin6_addr.s6_addr[12], text.data(), text.size());
    } else {
      rc = uv_ip6_name(in6, text.data(), text.size());
    }
  }
  return rc == 0 ? std::string(text.data()) : std::string();
}

int TcpStream::fd() const {
  uv_os_fd_t fd = -1;
  if (uv_fileno(reinterpret_cast<const uv_handle_t*>(&tcp_), &fd) != 0) return -1;
  return fd;
}

}  // namespace sb::net
