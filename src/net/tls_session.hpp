// TlsSession: one side of one TLS connection, as a pure byte transformer
// with no socket of its own. Whoever owns the socket feeds it what the peer sent
// (feed), hands it what the application wants to send (write), and forwards the
// ciphertext it produces (TlsSessionSink::tls_send) to the socket. That is what lets
// the XMPP link switch TLS on in the middle of a TCP stream (STARTTLS): the same
// TcpStream, the same read path, just a transformer slotted in.
//
// The OpenSSL side is an SSL object whose one BIO is a memory BIO of our own (see
// tls_session.cpp): reads come straight from the bytes given to feed(), without a
// copy into an intermediate BIO buffer, and writes are appended to one string that
// is handed to the sink, usually taken by the kernel at once. A standard mem BIO
// would keep the capacity of the largest read it ever saw (64 KB from the loop's
// shared buffer) for the life of the connection; this keeps nothing between calls.
// Because its writes never block, OpenSSL never asks to retry a write
// (SSL_ERROR_WANT_WRITE cannot happen); WANT_READ means "feed me more".
//
// Calls and callbacks:
// - A client session's start(host) sends the ClientHello; a server session's
//   accept() waits for one (the HTTPS listener, tls_server_stream.hpp). The
//   handshake then progresses inside feed().
//   When it completes, tls_established() is called once, then whatever was write()n
//   during the handshake is sent, in order.
// - feed() delivers decrypted application data through tls_received(), in record
//   sized pieces (the view lives only during the call).
// - The peer's close_notify is reported once through tls_peer_closed(); close_notify()
//   sends ours. Either way no more application data goes out afterwards.
// - Any protocol or verification error is reported once through tls_failed(reason);
//   the session is dead afterwards and ignores every call.
// Callbacks may call write() and close_notify() but must not destroy the session.
//
// Memory: the SSL object's state is tens of kilobytes during the handshake and about
// 19 KB once idle with OpenSSL 3.0 (record buffers are released when empty, the
// handshake's buffers when it ends; SSL_new alone is ~8.5 KB);
// tls_session_test.cpp measures and prints it.
#pragma once

#include <openssl/types.h>

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "net/tls_context.hpp"

namespace sb::net {

class TlsSessionSink {
 public:
  // Ciphertext for the peer, in order; the sink takes the string.
  virtual void tls_send(std::string&& ciphertext) = 0;
  // The handshake completed (and the certificate, if verified, passed).
  virtual void tls_established() = 0;
  // Decrypted bytes from the peer.
  virtual void tls_received(std::string_view plaintext) = 0;
  // The peer sent close_notify: it will send nothing more.
  virtual void tls_peer_closed() = 0;
  // The handshake or the connection failed; `reason` says why, for a log line.
  virtual void tls_failed(std::string_view reason) = 0;

 protected:
  ~TlsSessionSink() = default;
};

class TlsSession {
 public:
  enum class State : std::uint8_t { kIdle, kHandshaking, kOpen, kClosed, kFailed };

  enum class Role : std::uint8_t { kClient, kServer };
  TlsSession(const TlsContext& context, TlsSessionSink& sink);
  // A session on any SSL_CTX; a server's (TlsServerContext::native()) for kServer.
  TlsSession(SSL_CTX* context, TlsSessionSink& sink, Role role);
  TlsSession(const TlsSession&) = delete;
  TlsSession& operator=(const TlsSession&) = delete;
  ~TlsSession();

  // Starts the handshake towards `host_name`: sent as SNI (unless it is an IP
  // address) and, when the context verifies, the name the certificate must carry.
  // Reports failure through tls_failed (even from here, e.g. out of memory).
  void start(std::string_view host_name);

  // Server side: expect the peer's ClientHello from the next feed().
  void accept();
  // Ciphertext from the peer, split anywhere: everything is consumed.
  void feed(std::string_view ciphertext);

  // Plaintext for the peer. Before the handshake completes it is kept and sent on
  // completion; after close_notify() or a failure it is dropped.
  void write(std::string_view plaintext);

  // Sends close_notify (once the handshake is done; otherwise just stops sending).
  // Reading goes on: the peer's own close_notify is still reported.
  void close_notify();

  State state() const { return state_; }
  bool peer_closed() const { return peer_closed_; }
  // "TLSv1.3" and the cipher's name, once open; for logs and tests.
  std::string_view protocol() const;
  std::string_view cipher() const;
  // The ALPN protocol agreed ("http/1.1"), empty if none was.
  std::string_view alpn() const;
  // Whether the handshake resumed an earlier session (a ticket).
  bool resumed() const;

  // TlsSession objects alive in this process: for tests and metrics.
  static std::size_t live_count();

 private:
  friend struct TlsBioAccess;  // the BIO callbacks read input_ and append to output_

  void drive_handshake();
  void read_records();
  void write_now(std::string_view plaintext);
  void flush();
  void fail(std::string_view what, int ssl_error);

  TlsSessionSink& sink_;
  SSL* ssl_ = nullptr;
  std::string_view input_;  // ciphertext being fed; empty outside feed()
  std::string output_;      // ciphertext produced, not yet handed to the sink
  std::string early_;       // plaintext written before the handshake completed
  State state_ = State::kIdle;
  bool sent_close_ = false;
  bool peer_closed_ = false;
};

}  // namespace sb::net
