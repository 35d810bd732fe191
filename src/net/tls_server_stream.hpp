// TlsServerStream: TLS on an accepted connection of the HTTPS listener, as the
// TcpStream's filter (tcp_stream.hpp). The socket's bytes go through a server-side
// TlsSession (memory BIOs, tls_session.hpp); the handler above (HTTP, and after an
// upgrade WebSocket) sees only plaintext and writes only plaintext.
//
// A connection whose handshake fails (garbage, a version or ALPN we refuse, a
// client that hangs up halfway) is closed at once, after any alert OpenSSL wants
// sent, and nothing above hears of it but on_closed(). One that never finishes its
// handshake is closed by the HTTP layer's first deadline (http_header_timeout),
// which starts at accept. The peer's close_notify reads as end of stream; a
// half-close from above sends ours before the FIN.
//
// Memory: this object (about 100 bytes) plus the SSL object (tls_session.hpp:
// tens of kilobytes while handshaking, a few once idle with
// SSL_MODE_RELEASE_BUFFERS). Nothing is buffered between calls.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

#include "net/tcp_stream.hpp"
#include "net/tls_session.hpp"

namespace sb::net {

class TlsServerStream final : private StreamFilter, private TlsSessionSink {
 public:
  // Puts TLS between `stream` (freshly accepted, not reading yet) and its handler,
  // with a session from `context` (a TlsServerContext's). The object goes with the
  // stream.
  static void attach(TcpStream& stream, SSL_CTX* context);

  // The TLS state of a filtered stream, null for a plain one.
  static const TlsSession* session_of(const TcpStream& stream);

  // Handshakes that failed in this process: for tests and the log.
  static std::size_t failed_handshakes();

 private:
  TlsServerStream(TcpStream& stream, SSL_CTX* context);
  ~TlsServerStream() = default;

  // StreamFilter
  StreamHandler* inner() const override { return inner_; }
  void set_inner(StreamHandler* handler) override { inner_ = handler; }
  void filter_write(std::string_view first, std::string_view second) override;
  void filter_shutdown() override;
  // StreamHandler (the socket's side)
  void on_read(TcpStream& stream, std::string_view bytes) override;
  void on_read_end(TcpStream& stream, int status) override;
  void on_drained(TcpStream& stream) override;
  void on_write_error(TcpStream& stream, int status) override;
  void on_closed(TcpStream& stream) override;
  // TlsSessionSink
  void tls_send(std::string&& ciphertext) override;
  void tls_established() override { established_ = true; }
  void tls_received(std::string_view plaintext) override;
  void tls_peer_closed() override;
  void tls_failed(std::string_view reason) override;

  TcpStream& stream_;
  StreamHandler* inner_ = nullptr;
  TlsSession session_;
  bool established_ = false;
  bool ended_ = false;  // on_read_end was passed up (close_notify, EOF or an error)
};

}  // namespace sb::net
