// TlsSession (the client) against an in-process OpenSSL server (tls_test_peer.hpp),
// with no sockets: the test carries the bytes between them, in whatever chunk sizes
// it likes. Covers the handshake with and without verification, bytes split at
// every odd boundary, certificates that must be refused, close_notify both ways,
// garbage from the peer, and the memory an idle TLS connection keeps.
#include <doctest/doctest.h>
#include <malloc.h>
#include <openssl/ssl.h>

#include <algorithm>
#include <functional>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "net/tls_context.hpp"
#include "net/tls_session.hpp"
#include "net/tls_test_peer.hpp"

using sb::net::TlsClientOptions;
using sb::net::TlsContext;
using sb::net::TlsSession;
using sb::net::test::ServerContext;
using sb::net::test::TestPki;
using sb::net::test::TestTlsServer;

namespace {

struct ClientSink final : sb::net::TlsSessionSink {
  std::string to_server;  // ciphertext not yet carried over
  std::string received;
  int established = 0;
  int peer_closed = 0;
  std::vector<std::string> failures;
  std::function<void()> on_established;

  void tls_send(std::string&& ciphertext) override { to_server += ciphertext; }
  void tls_established() override {
    ++established;
    if (on_established) on_established();
  }
  void tls_received(std::string_view plaintext) override { received.append(plaintext); }
  void tls_peer_closed() override { ++peer_closed; }
  void tls_failed(std::string_view reason) override { failures.emplace_back(reason); }
};

std::unique_ptr<TlsContext> client_context(TlsClientOptions options) {
  std::string error;
  auto context = TlsContext::create_client(options, error);
  REQUIRE_MESSAGE(context != nullptr, error);
  return context;
}

// Carries bytes both ways, `chunk` bytes per delivery, until neither side has
// anything left to say. Returns how many deliveries it made.
int pump(TlsSession& client, ClientSink& sink, TestTlsServer& server, std::size_t chunk) {
  int deliveries = 0;
  for (;;) {
    std::string up = std::exchange(sink.to_server, {});
    std::string down = server.take_output();
    if (up.empty() && down.empty()) return deliveries;
    for (std::size_t at = 0; at < up.size(); at += chunk) {
      server.feed(std::string_view(up).substr(at, chunk));
      ++deliveries;
    }
    for (std::size_t at = 0; at < down.size(); at += chunk) {
      client.feed(std::string_view(down).substr(at, chunk));
      ++deliveries;
    }
  }
}

}  // namespace

TEST_CASE("a verified handshake, then bytes both ways, then close_notify both ways") {
  TestPki pki;
  ServerContext server_ctx(pki.server_context());
  auto context = client_context({true, pki.ca_file()});
  TestTlsServer server(server_ctx.ctx);
  ClientSink sink;
  TlsSession client(*context, sink);
  CHECK(TlsSession::live_count() >= 1);

  client.write("written before the handshake ");  // kept until it completes
  client.start("localhost");
  CHECK(client.state() == TlsSession::State::kHandshaking);
  CHECK(!sink.to_server.empty());  // the ClientHello
  pump(client, sink, server, 1 << 20);
  REQUIRE(sink.failures.empty());
  CHECK(sink.established == 1);
  CHECK(client.state() == TlsSession::State::kOpen);
  CHECK(client.protocol() == "TLSv1.3");
  CHECK(!client.cipher().empty());
  CHECK(std::string(server.sni()) == "localhost");
  CHECK(server.received == "written before the handshake ");

  client.write("<iq/>");
  server.write("<message>h\xC3\xA9llo</message>");
  pump(client, sink, server, 1 << 20);
  CHECK(server.received == "written before the handshake <iq/>");
  CHECK(sink.received == "<message>h\xC3\xA9llo</message>");

  client.close_notify();
  CHECK(client.state() == TlsSession::State::kClosed);
  client.write("dropped after close_notify");
  server.write("the server may still talk");
  pump(client, sink, server, 1 << 20);
  CHECK(server.got_close_notify);
  CHECK(server.received == "written before the handshake <iq/>");
  CHECK(sink.received == "<message>h\xC3\xA9llo</message>the server may still talk");
  CHECK(sink.peer_closed == 0);

  server.close_notify();
  pump(client, sink, server, 1 << 20);
  CHECK(sink.peer_closed == 1);
  CHECK(client.peer_closed());
  client.feed("more bytes after close_notify are ignored");
  CHECK(sink.failures.empty());
  CHECK(sink.peer_closed == 1);
}

TEST_CASE("the handshake and records survive any split of the byte stream") {
  TestPki pki;
  for (int max_version : {0, TLS1_2_VERSION}) {
    ServerContext server_ctx(pki.server_context(false, max_version));
    auto context = client_context({true, pki.ca_file()});
    for (std::size_t chunk : {1u, 2u, 3u, 5u, 7u, 13u, 100u, 1499u}) {
      CAPTURE(max_version);
      CAPTURE(chunk);
      TestTlsServer server(server_ctx.ctx);
      ClientSink sink;
      TlsSession client(*context, sink);
      // The link writes its stream header from inside tls_established().
      sink.on_established = [&client] { client.write("<stream:stream>"); };
      client.start("xmpp.test");
      const int deliveries = pump(client, sink, server, chunk);
      REQUIRE(sink.failures.empty());
      CHECK(sink.established == 1);
      if (chunk == 1) CHECK(deliveries > 500);  // really was byte by byte
      CHECK(client.protocol() == (max_version == 0 ? "TLSv1.3" : "TLSv1.2"));

      std::string big(100'000, '\0');
      for (std::size_t i = 0; i < big.size(); ++i) big[i] = static_cast<char>('a' + i % 26);
      server.write(big);
      client.write("</stream:stream>");
      pump(client, sink, server, chunk);
      CHECK(sink.received == big);
      CHECK(server.received == "<stream:stream></stream:stream>");
    }
  }
}

TEST_CASE("a certificate no trusted CA signed is refused when verifying") {
  TestPki pki;
  ServerContext rogue(pki.server_context(true));
  auto context = client_context({true, pki.ca_file()});
  TestTlsServer server(rogue.ctx);
  ClientSink sink;
  TlsSession client(*context, sink);
  client.write("<never-sent/>");
  client.start("localhost");
  pump(client, sink, server, 1 << 20);
  REQUIRE(sink.failures.size() == 1);
  CHECK(sink.failures[0].find("certificate verification failed") != std::string::npos);
  CHECK(sink.failures[0].find("self-signed") != std::string::npos);
  CHECK(sink.established == 0);
  CHECK(client.state() == TlsSession::State::kFailed);
  CHECK(server.failed);  // it got our alert
  CHECK(server.received.empty());
  // A dead session ignores everything.
  client.feed("junk");
  client.write("junk");
  CHECK(sink.failures.size() == 1);
}

TEST_CASE("a certificate for another name is refused when verifying") {
  TestPki pki;
  ServerContext server_ctx(pki.server_context());
  auto context = client_context({true, pki.ca_file()});
  TestTlsServer server(server_ctx.ctx);
  ClientSink sink;
  TlsSession client(*context, sink);
  client.start("example.org");
  pump(client, sink, server, 1 << 20);
  REQUIRE(sink.failures.size() == 1);
  CHECK(sink.failures[0].find("hostname mismatch") != std::string::npos);
  CHECK(sink.established == 0);
}

TEST_CASE("the system store does not trust a private CA") {
  TestPki pki;
  ServerContext server_ctx(pki.server_context());
  auto context = client_context({true, ""});
  TestTlsServer server(server_ctx.ctx);
  ClientSink sink;
  TlsSession client(*context, sink);
  client.start("localhost");
  pump(client, sink, server, 1 << 20);
  REQUIRE(sink.failures.size() == 1);
  CHECK(sink.failures[0].find("certificate verification failed") != std::string::npos);
}

TEST_CASE("with verification off any certificate and name are accepted") {
  TestPki pki;
  ServerContext rogue(pki.server_context(true));
  auto context = client_context({false, ""});
  CHECK(!context->verify_peer());
  TestTlsServer server(rogue.ctx);
  ClientSink sink;
  TlsSession client(*context, sink);
  client.start("example.org");
  pump(client, sink, server, 1 << 20);
  CHECK(sink.failures.empty());
  CHECK(sink.established == 1);
}

TEST_CASE("garbage instead of a server hello fails the handshake once") {
  auto context = client_context({false, ""});
  ClientSink sink;
  TlsSession client(*context, sink);
  client.start("localhost");
  client.feed("<stream:stream xmlns='jabber:client'>");  // a server that never switched
  REQUIRE(sink.failures.size() == 1);
  CHECK(sink.failures[0].find("TLS handshake failed") == 0);
  client.feed("more");
  CHECK(sink.failures.size() == 1);
}

TEST_CASE("a CA file that cannot be loaded is a context error") {
  std::string error;
  auto context = TlsContext::create_client({true, "/nonexistent/ca.pem"}, error);
  CHECK(context == nullptr);
  CHECK(error.find("/nonexistent/ca.pem") != std::string::npos);
}

// Heap in use by this process (glibc's count of allocated bytes).
std::size_t heap_in_use() { return mallinfo2().uordblks; }

// What an idle, established client connection keeps: the SSL object, its BIO, our
// TlsSession. Many connections are opened against in-process servers; the servers
// are freed first, so the heap difference when freeing the clients is theirs alone.
std::size_t idle_bytes_per_connection(TestPki& pki, bool release_buffers, bool verify = true) {
  constexpr int kConnections = 200;
  ServerContext server_ctx(pki.server_context());
  auto context = client_context({verify, verify ? pki.ca_file() : std::string()});
  if (!release_buffers) SSL_CTX_clear_mode(context->native(), SSL_MODE_RELEASE_BUFFERS);
  std::vector<std::unique_ptr<ClientSink>> sinks;
  std::vector<std::unique_ptr<TlsSession>> clients;
  {
    std::vector<std::unique_ptr<TestTlsServer>> servers;
    for (int i = 0; i < kConnections; ++i) {
      sinks.push_back(std::make_unique<ClientSink>());
      clients.push_back(std::make_unique<TlsSession>(*context, *sinks.back()));
      servers.push_back(std::make_unique<TestTlsServer>(server_ctx.ctx));
      clients.back()->start("localhost");
      pump(*clients.back(), *sinks.back(), *servers.back(), 1 << 20);
      // One exchange of application data, as an XMPP stream has, then idle.
      clients.back()->write("<presence/>");
      servers.back()->write("<presence/>");
      pump(*clients.back(), *sinks.back(), *servers.back(), 1 << 20);
      REQUIRE(sinks.back()->established == 1);
      sinks.back()->received.clear();
      sinks.back()->received.shrink_to_fit();
    }
  }
  malloc_trim(0);
  const std::size_t with_clients = heap_in_use();
  clients.clear();
  malloc_trim(0);
  const std::size_t without = heap_in_use();
  return (with_clients - std::min(with_clients, without)) / kConnections;
}

TEST_CASE("an idle TLS connection keeps under 32 KB, its record buffers released (measured)") {
#if defined(__SANITIZE_ADDRESS__)
  MESSAGE("skipped: AddressSanitizer's allocator is invisible to mallinfo2()");
  return;
#endif
  TestPki pki;
  const std::size_t released = idle_bytes_per_connection(pki, true);
  const std::size_t kept = idle_bytes_per_connection(pki, false);
  const std::size_t unverified = idle_bytes_per_connection(pki, true, false);
  MESSAGE("idle TLS client connection: " << released << " bytes with SSL_MODE_RELEASE_BUFFERS ("
                                         << unverified << " without verification), " << kept
                                         << " bytes without releasing buffers; TlsSession object "
                                         << sizeof(TlsSession) << " bytes");
  CHECK(released > 0);
  CHECK(released + 16 * 1024 < kept);  // the record buffers really are given back
  // OpenSSL 3.0's SSL object alone is about 8.5 KB; the session (peer certificate,
  // ticket) and the TLS 1.3 key schedule add about as much again.
  CHECK(released < 32 * 1024);
}
