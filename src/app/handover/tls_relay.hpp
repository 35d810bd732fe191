// TlsRelay: how a BOSH request that came over TLS reaches the worker that owns its
// session (docs/architecture.md, "Processes" and "HTTPS").
//
// A plain connection is handed to the owner with its descriptor (handover.hpp).
// A TLS connection cannot be: its keys and sequence numbers live in this process's
// SSL object, and OpenSSL has no way to move a live connection to another process.
// So TLS ends where the connection was accepted, and the plaintext travels on: a
// socketpair is made, one end is handed to the owner exactly like a plain
// connection (with the request, re-serialized), and this object pumps bytes
// between the TLS connection and the other end, both ways, for the rest of the
// connection's life. The owner serves it as any plain HTTP connection (it can even
// hand it on again), and never knows TLS was involved.
//
// Why not serve the request here instead: the session, its rid window and its held
// request live in the owner alone; keeping them in one place is the whole point of
// the sid prefix. Why not hand over TLS sessions by re-handshaking: a browser
// cannot be asked to. The cost is one socketpair (two descriptors, two kernel
// socket buffers) per relayed connection and a copy through this process; only
// connections whose first foreign request is relayed pay it, and a keep-alive
// connection is relayed once.
//
// Flow control: a side whose peer has more than kHighWaterBytes queued stops being
// read until that drains. An end of stream on either side half-closes the other
// (after its queued bytes: close_notify, then FIN, on the TLS side) and closes this
// one; the other is closed once drained. The object frees itself when both streams
// are closed.
#pragma once

#include <uv.h>

#include <cstddef>
#include <string>
#include <string_view>

#include "app/front/http_socket.hpp"
#include "net/tcp_stream.hpp"

namespace sb::app {

class TlsRelay {
 public:
  static constexpr std::size_t kHighWaterBytes = 256 * 1024;

  // Turns `socket` (a TLS connection, inside the handling of a request that may
  // hand it over) into a relay, and returns the far end of the socketpair, to be
  // handed to the owner and then closed here. Null, with `error` set and `socket`
  // untouched, if the socketpair cannot be made.
  static net::TcpStream* start(uv_loop_t* loop, HttpSocket& socket, std::string& error);

  // Relays alive in this process: for tests and the log.
  static std::size_t live_count();

 private:
  struct Side final : net::StreamHandler {
    TlsRelay* relay = nullptr;
    net::TcpStream* stream = nullptr;
    Side* other = nullptr;
    bool closed = false;
    bool done = false;  // its read side ended: close the other once drained

    void on_read(net::TcpStream& s, std::string_view bytes) override;
    void on_read_end(net::TcpStream& s, int status) override;
    void on_drained(net::TcpStream& s) override;
    void on_write_error(net::TcpStream& s, int status) override;
    void on_closed(net::TcpStream& s) override;
  };

  TlsRelay();
  ~TlsRelay();
  void end(Side& side);

  Side tls_;    // the client's TLS connection
  Side local_;  // our end of the socketpair
};

}  // namespace sb::app
