// TlsServerStream on real loopback sockets: a TcpStream filter between the
// socket and a handler that sees only plaintext. The client is a blocking OpenSSL
// client on its own thread (no code of ours), the server the test's loop.
// Covers a request and its answer both ways, the client's close_notify read as
// end of stream, a half-close from above sending ours, and garbage or a client
// that leaves mid-handshake: closed, the handler told only on_closed(), and
// every stream freed (LoopFixture's final check).
#include <arpa/inet.h>
#include <doctest/doctest.h>
#include <netinet/in.h>
#include <openssl/ssl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <memory>
#include <string>
#include <thread>

#include "net/loop_fixture.hpp"
#include "net/tls_server_context.hpp"
#include "net/tls_server_stream.hpp"
#include "net/tls_test_peer.hpp"

using sb::net::TcpStream;
using sb::net::TlsServerContext;
using sb::net::TlsServerStream;
using sb::net::test::LoopFixture;
using sb::net::test::Recorder;
using sb::net::test::TestPki;

namespace {

int connect_to(std::uint16_t port) {
  const int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_port = htons(port);
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (connect(fd, reinterpret_cast<sockaddr*>(&address), sizeof address) != 0) {
    close(fd);
    return -1;
  }
  timeval timeout{5, 0};
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof timeout);
  return fd;
}

// What the client thread saw, read by the test once it has joined.
struct ClientResult {
  bool handshake = false;
  std::string alpn;
  std::string answer;
  bool got_close_notify = false;
};

void tls_client(std::uint16_t port, ClientResult& result) {
  SSL_CTX* ctx = SSL_CTX_new(TLS_client_method());
  SSL_CTX_set_verify(ctx, SSL_VERIFY_NONE, nullptr);
  SSL* ssl = SSL_new(ctx);
  static const unsigned char kAlpn[] = {8, 'h', 't', 't', 'p', '/', '1', '.', '1'};
  SSL_set_alpn_protos(ssl, kAlpn, sizeof kAlpn);
  const int fd = connect_to(port);
  SSL_set_fd(ssl, fd);
  if (fd >= 0 && SSL_connect(ssl) == 1) {
    result.handshake = true;
    const unsigned char* alpn = nullptr;
    unsigned int length = 0;
    SSL_get0_alpn_selected(ssl, &alpn, &length);
    if (alpn != nullptr) result.alpn.assign(reinterpret_cast<const char*>(alpn), length);
    SSL_write(ssl, "ping", 4);
    char buffer[256];
    for (;;) {
      const int n = SSL_read(ssl, buffer, sizeof buffer);
      if (n > 0) {
        result.answer.append(buffer, static_cast<std::size_t>(n));
        continue;
      }
      result.got_close_notify = SSL_get_error(ssl, n) == SSL_ERROR_ZERO_RETURN;
      break;
    }
    SSL_shutdown(ssl);
  }
  SSL_free(ssl);
  SSL_CTX_free(ctx);
  if (fd >= 0) close(fd);
}

// Sends `bytes` and waits for the server to close; true if it did.
bool hostile_client(std::uint16_t port, std::string bytes) {
  const int fd = connect_to(port);
  if (fd < 0) return false;
  (void)!write(fd, bytes.data(), bytes.size());
  char buffer[4096];
  bool closed = false;
  for (;;) {
    const ssize_t n = read(fd, buffer, sizeof buffer);
    if (n > 0) continue;  // an alert
    closed = n == 0 || errno == ECONNRESET;
    break;
  }
  close(fd);
  return closed;
}

struct TlsServer {
  TlsServer(LoopFixture& fixture, TestPki& pki, Recorder& handler) {
    const auto [cert, key] = pki.server_files();
    auto secret = sb::net::TicketSecret::generate();
    REQUIRE(secret.has_value());
    tickets = std::make_unique<sb::net::TicketKeyRing>(*secret, 3600);
    std::string error;
    context = TlsServerContext::create(cert, key, tickets.get(), error);
    REQUIRE_MESSAGE(context != nullptr, error);
    listener = std::make_unique<sb::net::Listener>(fixture.loop(), [this, &handler](TcpStream& s) {
      TlsServerStream::attach(s, context->native());
      s.set_handler(&handler);
      s.start_reading();
      ++accepted;
    });
    REQUIRE(listener->listen("127.0.0.1:0", 16, error) == 0);
    port = static_cast<std::uint16_t>(listener->bound_port());
  }
  std::unique_ptr<sb::net::TicketKeyRing> tickets;  // before the context: it outlives it
  std::unique_ptr<TlsServerContext> context;
  std::unique_ptr<sb::net::Listener> listener;
  std::uint16_t port = 0;
  int accepted = 0;
};

}  // namespace

TEST_CASE_FIXTURE(LoopFixture, "plaintext both ways through the filter, close_notify both ways") {
  TestPki pki;
  Recorder handler;
  TlsServer server(*this, pki, handler);
  handler.on_bytes = [](TcpStream& stream, std::string_view bytes) {
    CHECK(stream.filtered());
    const auto* tls = TlsServerStream::session_of(stream);
    REQUIRE(tls != nullptr);
    CHECK(tls->alpn() == "http/1.1");
    stream.write("pong:" + std::string(bytes));
    stream.shutdown_after_writes();  // close_notify, then FIN
  };
  handler.on_end = [](TcpStream& stream, int) { stream.close(); };
  ClientResult result;
  std::thread client(tls_client, server.port, std::ref(result));
  const bool done = run_until([&] { return handler.closed == 1; });
  client.join();
  server.listener->close();
  CHECK(done);
  CHECK(result.handshake);
  CHECK(result.alpn == "http/1.1");
  CHECK(handler.received == "ping");
  CHECK(result.answer == "pong:ping");
  CHECK(result.got_close_notify);
  CHECK(handler.read_ends == 1);  // the client's close_notify (or its FIN)
}

TEST_CASE_FIXTURE(LoopFixture,
                  "garbage and a half handshake are closed, the handler hears only on_closed") {
  TestPki pki;
  Recorder handler;
  TlsServer server(*this, pki, handler);
  const std::size_t failed_before = TlsServerStream::failed_handshakes();
  std::atomic<int> closed_by_server{0};
  std::thread client([&] {
    if (hostile_client(server.port, "GET / HTTP/1.1\r\nHost: x\r\n\r\n")) ++closed_by_server;
    if (hostile_client(server.port, std::string(3000, '\xff'))) ++closed_by_server;
    // The start of a ClientHello record, then the client leaves: its FIN.
    const int fd = connect_to(server.port);
    (void)!write(fd, "\x16\x03\x01\x00\xc8\x01\x00\x00\xc4\x03\x03", 11);
    close(fd);
  });
  const bool done = run_until([&] { return handler.closed == 3; });
  client.join();
  server.listener->close();
  CHECK(done);
  CHECK(closed_by_server == 2);
  CHECK(server.accepted == 3);
  CHECK(handler.received.empty());
  CHECK(handler.read_ends == 0);
  CHECK(TlsServerStream::failed_handshakes() == failed_before + 3);
}
