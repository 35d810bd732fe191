// TcpStream: one TCP connection on the loop, with an ordered write queue and a
// strict lifecycle (open -> closing -> closed).
//
// Reads come from the loop's shared buffer (see LoopContext): the handler gets a
// view that is valid only during on_read(). Writes keep their buffers alive (owned
// strings or shared bodies) until libuv is done with them.
//
// Lifetime: the TcpStream is heap-allocated and owns itself once open. close()
// starts uv_close; when libuv has closed the handle the handler's on_closed() is
// called once and the TcpStream deletes itself. The handler must not use the stream
// after on_closed(). Errors and EOF are reported once through on_read_end(); the
// stream is not closed for you.
//
// A StreamFilter (the HTTPS listener's TLS, tls_server_stream.hpp) may sit between
// the socket and the handler: it sees the socket's bytes first and hands the
// handler what it makes of them, and the stream's write calls go through it on
// the way out. The handler cannot tell: handler(), set_handler(), write() and
// shutdown_after_writes() speak of and to the handler's side of the filter, so
// the HTTP and WebSocket code serves both kinds of connection unchanged. A plain
// stream pays one flag bit for this.
#pragma once

#include <uv.h>

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "base/object_pool.hpp"
namespace sb::net {

class TcpStream;

class StreamHandler {
 public:
  virtual void on_read(TcpStream& stream, std::string_view bytes) = 0;
  // EOF (status == UV_EOF) or a read error. Reading has stopped.
  virtual void on_read_end(TcpStream& stream, int status) = 0;
  // All queued writes have been handed to the kernel (write queue empty).
  virtual void on_drained(TcpStream& /*stream*/) {}
  // A write failed (the peer is gone). Followed by nothing: close the stream.
  virtual void on_write_error(TcpStream& stream, int status) = 0;
  // The handle is closed; the stream is about to be freed.
  virtual void on_closed(TcpStream& stream) = 0;

 protected:
  ~StreamHandler() = default;
};

// Sits between a stream's socket and its handler (see the top of this file). It
// is the socket's handler; the stream's own handler becomes the filter's inner
// one. The filter owns itself and goes with the stream (its on_closed()).
class StreamFilter : public StreamHandler {
 public:
  virtual StreamHandler* inner() const = 0;
  virtual void set_inner(StreamHandler* handler) = 0;
  // The handler's bytes on their way out (`second` may be empty): what the filter
  // makes of them goes to the socket through TcpStream::write_filtered().
  virtual void filter_write(std::string_view first, std::string_view second) = 0;
  // The handler asked for a half-close: the filter's last words before the FIN.
  virtual void filter_shutdown() = 0;

 protected:
  ~StreamFilter() = default;
};

class TcpStream : public base::Pooled<TcpStream> {
 public:
  // Wraps an accepted or to-be-connected uv_tcp_t that this object owns. The loop
  // must have a LoopContext (reads use its shared buffer). Until it is open the
  // stream is freed the same way: close() and let the loop run.
  static TcpStream* create(uv_loop_t* loop, StreamHandler* handler);
  // A stream over `fd`, a connected socket this process received (accepted,
  // handed over, kept): it owns the descriptor from now on. Null when libuv
  // does not take it (the descriptor is closed then).
  static TcpStream* open(uv_loop_t* loop, int fd);

  uv_tcp_t* handle() { return &tcp_; }
  uv_stream_t* stream() { return reinterpret_cast<uv_stream_t*>(&tcp_); }
  // The socket's descriptor (still the stream's), or -1 when it has none.
  int fd() const;
  // The handler lives in the handle's `data` slot (libuv's own spare pointer),
  // which saves a member: this class is 264 bytes, 248 of them uv_tcp_t.
  void set_handler(StreamHandler* handler) {
    if (filtered_) {
      filter()->set_inner(handler);
    } else {
      tcp_.data = handler;
    }
  }
  StreamHandler* handler() const { return filtered_ ? filter()->inner() : socket_handler(); }

  // Puts `filter` between the socket and the current handler, which becomes the
  // filter's inner handler. Once, before reading starts.
  void attach_filter(StreamFilter* filter);
  bool filtered() const { return filtered_; }
  const StreamFilter* attached_filter() const { return filtered_ ? filter() : nullptr; }
  // The filter's output, straight to the socket (as write() on a plain stream).
  void write_filtered(std::string bytes) { write_socket(std::move(bytes), nullptr); }

  // Starts delivering bytes to on_read(). Returns 0, UV_EINVAL once closing, UV_EOF
  // once the read side has ended, or libuv's error.
  int start_reading();
  void stop_reading();
  bool reading() const { return reading_; }

  // Queues bytes for writing; order is preserved across calls. What the kernel takes
  // at once (uv_try_write) is never queued. Writes after close(), after
  // shutdown_after_writes() or after a write error are ignored. A failed write is
  // reported through on_write_error() from the loop, never from inside write().
  // After a read error (reported through on_read_end) libuv considers the write
  // side dead too: such writes are dropped without a further report.
  void write(std::string bytes);
  // Queues a header and a shared body as one write (no copy of the body).
  void write(std::string head, std::shared_ptr<const std::string> body);
  // Writes two views as one write. They are tried on the kernel first; only what it
  // does not take at once is copied (a WebSocket frame header and its stanza).
  void write_copy(std::string_view first, std::string_view second);
  // Bytes handed to libuv whose write callback has not come back yet. on_drained()
  // fires when this falls back to 0 (never for writes the kernel took at once).
  std::size_t queued_bytes() const { return queued_bytes_; }

  // Half-close after the queued writes (uv_shutdown); reading goes on.
  void shutdown_after_writes();
  // Starts closing (idempotent). Pending writes are cancelled: libuv completes them
  // with UV_ECANCELED, which is not reported to the handler.
  void close();
  bool closing() const { return closing_; }

  // The peer's address as text ("127.0.0.1"), empty if unknown. An IPv4-mapped
  // IPv6 peer ("::ffff:127.0.0.1") is shown as plain IPv4.
  std::string peer_ip() const;

  // TcpStream objects alive in this process (all loops): for tests and metrics.
  static std::size_t live_count();

  // The stream whose libuv handle this is, for a walk over a loop's handles
  // (uv_walk) in a program whose every UV_TCP handle is a TcpStream's. The
  // handle's `data` is the handler, not the stream.
  static TcpStream* of_handle(uv_handle_t* handle) { return from(handle); }

 private:
  TcpStream(uv_loop_t* loop, StreamHandler* handler);
  ~TcpStream() = default;
  struct WriteRequest;
  static void on_read_cb(uv_stream_t* s, ssize_t nread, const uv_buf_t* buf);
  static void on_write_cb(uv_write_t* req, int status);
  static void on_close_cb(uv_handle_t* h);
  static void on_shutdown_cb(uv_shutdown_t* req, int status);

  static TcpStream* from(void* handle);  // the stream whose tcp_ this is
  // Who hears the socket: the filter if there is one, else the handler.
  StreamHandler* socket_handler() const { return static_cast<StreamHandler*>(tcp_.data); }
  StreamFilter* filter() const { return static_cast<StreamFilter*>(socket_handler()); }
  void write_socket(std::string head, std::shared_ptr<const std::string> body);

  uv_tcp_t tcp_{};  // first member: see from()
  // 32 bits and one byte of flags keep the stream at 256 bytes (uv_tcp_t is 248):
  // every session has two. Writers bound their backlogs far below 4 GiB
  // (max_unsent_bytes and the upstream backlog), and write() refuses a
  // queue that would pass it.
  std::uint32_t queued_bytes_ = 0;
  bool reading_ : 1 = false;
  bool read_ended_ : 1 = false;    // EOF or a read error was reported
  bool write_failed_ : 1 = false;  // on_write_error was reported
  bool closing_ : 1 = false;
  bool shutdown_requested_ : 1 = false;
  bool filtered_ : 1 = false;  // tcp_.data is a StreamFilter
};

}  // namespace sb::net
