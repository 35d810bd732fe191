// Transport: what an HTTP Connection needs from its byte stream, and nothing more.
//
// Keeping the connection socket-agnostic lets the unit tests drive it with a fake
// that records writes, and keeps libuv out of the HTTP layer. The production
// adapter wraps net::TcpStream.
//
// Contract for implementations:
// - write() queues bytes in order; the body is shared, never copied. It must not
//   call back into the Connection synchronously.
// - close() means "no more writes; flush what is queued, then close the socket".
//   It is called once, right after the last write. It must not destroy the
//   Connection synchronously: the owner destroys the Connection only once the socket
//   is really closed (for TcpStream that is the asynchronous on_closed()). Because a
//   client that does not read never lets the flush finish, the adapter should bound
//   the flush with a linger timeout.
// - pause_reading()/resume_reading() stop and restart delivery of bytes to
//   Connection::feed(). A read already under way may still be delivered after a
//   pause; the Connection copes.
// - queued_bytes() is the backlog written but not yet handed to the kernel.
// - switch_protocols() ends HTTP on the stream: write `head` (a 101), then give the
//   socket to the new protocol with `first_bytes`, what the client sent after the
//   upgrade request. The Connection is inert from then on and never calls the
//   transport again; the owner frees it later, outside the Connection's frames.
#pragma once

#include <cstddef>
#include <memory>
#include <string>

namespace sb::http {

class Transport {
 public:
  virtual void write(std::string head, std::shared_ptr<const std::string> body) = 0;
  virtual void close() = 0;
  virtual void pause_reading() = 0;
  virtual void resume_reading() = 0;
  virtual std::size_t queued_bytes() const = 0;
  // The deadline set with Connection::linger() after close() has passed.
  virtual void linger_expired() {}
  // A transport that cannot change protocols just closes.
  virtual void switch_protocols(std::string head, std::string& first_bytes) {
    (void)head;
    (void)first_bytes;
    close();
  }

 protected:
  ~Transport() = default;
};

}  // namespace sb::http
