// The HTTPS listener's TLS: TlsServerContext (certificate loading, policy, ticket
// keys, reload) and a server-side TlsSession, driven through memory BIOs against
// a client written directly on OpenSSL (below), which shares none of our code.
// Covers TLS 1.2 and 1.3, ALPN, resumption across two contexts with the same
// ticket secret (two workers) and not with different ones, the rotation of ticket
// keys on an injected clock (a ticket opens in its own and the next period, is
// renewed in the next, and is refused after), OpenSSL's own per-context keys
// (tls_ticket_rotation = 0), garbage before and inside the handshake and a
// corrupt record after it, and a reload.
#include <doctest/doctest.h>
#include <openssl/err.h>
#include <openssl/ssl.h>

#include <cstdio>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "net/tls_server_context.hpp"
#include "net/tls_session.hpp"
#include "net/tls_test_peer.hpp"

using sb::net::TicketKeyRing;
using sb::net::TicketSecret;
using sb::net::TlsServerContext;
using sb::net::TlsSession;
using sb::net::test::TestPki;

namespace {

struct ServerSink final : sb::net::TlsSessionSink {
  std::string to_client;
  std::string received;
  int established = 0;
  int peer_closed = 0;
  std::vector<std::string> failures;
  void tls_send(std::string&& ciphertext) override { to_client += ciphertext; }
  void tls_established() override { ++established; }
  void tls_received(std::string_view plaintext) override { received.append(plaintext); }
  void tls_peer_closed() override { ++peer_closed; }
  void tls_failed(std::string_view reason) override { failures.emplace_back(reason); }
};

// A TLS client on two standard mem BIOs, with the knobs the tests turn.
class RawClient final : public sb::net::test::MemoryBioPeer {
 public:
  struct Options {
    int version = 0;                 // 0 = any, else TLS1_2_VERSION or TLS1_3_VERSION
    std::string alpn = "http/1.1";   // one protocol offered; empty = no ALPN
    SSL_SESSION* session = nullptr;  // to resume
  };
  explicit RawClient(const Options& options) : MemoryBioPeer(new_client(options), false) {
    feed({});  // the ClientHello
  }
  bool resumed() const { return SSL_session_reused(ssl_) == 1; }
  // The session to resume with (after the server's ticket has been read).
  SSL_SESSION* session() const { return SSL_get1_session(ssl_); }

 private:
  static SSL* new_client(const Options& options) {
    SSL_CTX* ctx = SSL_CTX_new(TLS_client_method());
    REQUIRE(ctx != nullptr);
    if (options.version != 0) {
      SSL_CTX_set_min_proto_version(ctx, options.version);
      SSL_CTX_set_max_proto_version(ctx, options.version);
    }
    SSL_CTX_set_verify(ctx, SSL_VERIFY_NONE, nullptr);
    SSL* ssl = SSL_new(ctx);
    SSL_CTX_free(ctx);  // the SSL holds its own reference
    if (ssl != nullptr && !options.alpn.empty()) {
      std::string wire(1, static_cast<char>(options.alpn.size()));
      wire += options.alpn;
      SSL_set_alpn_protos(ssl, reinterpret_cast<const unsigned char*>(wire.data()),
                          static_cast<unsigned int>(wire.size()));
    }
    if (ssl != nullptr && options.session != nullptr) SSL_set_session(ssl, options.session);
    return ssl;
  }
};

// Carries bytes both ways until neither side has anything to say.
void pump(RawClient& client, TlsSession& server, ServerSink& sink) {
  for (int turns = 0; turns < 50; ++turns) {
    std::string up = client.take_output();
    std::string down = std::exchange(sink.to_client, {});
    if (up.empty() && down.empty()) return;
    if (!up.empty()) server.feed(up);
    if (!down.empty()) client.feed(down);
  }
  FAIL("the peers never went quiet");
}

TicketSecret secret() {
  auto generated = TicketSecret::generate();
  REQUIRE(generated.has_value());
  return *generated;
}

// A ring on a fresh secret that lives as long as the test program (contexts made
// from it may outlive a test's locals).
TicketKeyRing* keys() {
  static std::vector<std::unique_ptr<TicketKeyRing>> rings;
  rings.push_back(std::make_unique<TicketKeyRing>(secret(), 3600));
  return rings.back().get();
}

std::unique_ptr<TlsServerContext> context(TestPki& pki, TicketKeyRing* tickets) {
  const auto [cert, key] = pki.server_files();
  std::string error;
  auto made = TlsServerContext::create(cert, key, tickets, error);
  REQUIRE_MESSAGE(made != nullptr, error);
  return made;
}

// One handshake with `ctx`, resuming `ticket` if not null, closed cleanly. The
// session it leaves (to resume later; the caller frees it) in `out`, if not null.
struct Handshake {
  bool established = false;
  bool resumed = false;
};
Handshake handshake(TlsServerContext& ctx, int version, SSL_SESSION* ticket,
                    SSL_SESSION** out = nullptr) {
  RawClient client({version, "http/1.1", ticket});
  ServerSink sink;
  TlsSession server(ctx.native(), sink, TlsSession::Role::kServer);
  server.accept();
  pump(client, server, sink);
  Handshake result{client.established(), client.resumed() && server.resumed()};
  // TLS 1.3: the ticket comes after the handshake; have the client read it.
  client.write("x");
  pump(client, server, sink);
  client.close_notify();
  if (out != nullptr) *out = client.session();
  return result;
}

}  // namespace

TEST_CASE("TLS 1.3 and TLS 1.2 handshakes, ALPN http/1.1, then bytes both ways") {
  TestPki pki;
  auto server_context = context(pki, keys());
  for (int version : {TLS1_3_VERSION, TLS1_2_VERSION}) {
    CAPTURE(version);
    RawClient client({version});
    ServerSink sink;
    TlsSession server(server_context->native(), sink, TlsSession::Role::kServer);
    server.accept();
    pump(client, server, sink);
    REQUIRE(client.established());
    REQUIRE(sink.established == 1);
    CHECK(server.protocol() == (version == TLS1_3_VERSION ? "TLSv1.3" : "TLSv1.2"));
    CHECK(server.alpn() == "http/1.1");
    CHECK_FALSE(server.resumed());
    client.write("POST /http-bind HTTP/1.1\r\n\r\n");
    pump(client, server, sink);
    CHECK(sink.received == "POST /http-bind HTTP/1.1\r\n\r\n");
    server.write("HTTP/1.1 200 OK\r\n\r\n");
    pump(client, server, sink);
    CHECK(client.received == "HTTP/1.1 200 OK\r\n\r\n");
    CHECK(sink.failures.empty());
  }
}

TEST_CASE("a client offering ALPN without http/1.1 is refused, one offering none is served") {
  TestPki pki;
  auto server_context = context(pki, keys());
  {
    RawClient client({0, "h2"});
    ServerSink sink;
    TlsSession server(server_context->native(), sink, TlsSession::Role::kServer);
    server.accept();
    pump(client, server, sink);
    CHECK(sink.established == 0);
    CHECK(sink.failures.size() == 1);
    CHECK(client.failed);  // it got the no_application_protocol alert
  }
  {
    RawClient client({0, ""});
    ServerSink sink;
    TlsSession server(server_context->native(), sink, TlsSession::Role::kServer);
    server.accept();
    pump(client, server, sink);
    CHECK(sink.established == 1);
    CHECK(server.alpn().empty());
  }
}

TEST_CASE("a ticket from one context resumes on another with the same keys, not with others") {
  TestPki pki;
  // Two workers: each its own ring, derived from the one secret.
  const TicketSecret shared = secret();
  TicketKeyRing first_ring(shared, 3600);
  TicketKeyRing second_ring(shared, 3600);
  auto first_worker = context(pki, &first_ring);
  auto second_worker = context(pki, &second_ring);
  auto stranger = context(pki, keys());
  for (int version : {TLS1_3_VERSION, TLS1_2_VERSION}) {
    CAPTURE(version);
    SSL_SESSION* ticket = nullptr;
    {
      RawClient client({version});
      ServerSink sink;
      TlsSession server(first_worker->native(), sink, TlsSession::Role::kServer);
      server.accept();
      pump(client, server, sink);
      REQUIRE(client.established());
      client.close_notify();
      ticket = client.session();
      REQUIRE(ticket != nullptr);
      CHECK(SSL_SESSION_is_resumable(ticket) == 1);
      CHECK(SSL_SESSION_has_ticket(ticket) == 1);
    }
    for (auto* other : {first_worker.get(), second_worker.get(), stranger.get()}) {
      RawClient client({version, "http/1.1", ticket});
      ServerSink sink;
      TlsSession server(other->native(), sink, TlsSession::Role::kServer);
      server.accept();
      pump(client, server, sink);
      REQUIRE(client.established());
      CHECK(server.resumed() == (other != stranger.get()));
      CHECK(client.resumed() == (other != stranger.get()));
      client.close_notify();  // keeps the (TLS 1.2: shared) session resumable
    }
    SSL_SESSION_free(ticket);
  }
}

TEST_CASE("garbage before or inside the handshake fails it once, with an alert, and is inert") {
  TestPki pki;
  auto server_context = context(pki, keys());
  const std::vector<std::string> openings = {
      "GET / HTTP/1.1\r\nHost: x\r\n\r\n",  // plain HTTP on the TLS port
      std::string(1, '\x16') + std::string("\x03\x01\xff\xff", 4) + std::string(64, 'A'),
      std::string(2048, '\0'),
  };
  for (const std::string& garbage : openings) {
    ServerSink sink;
    TlsSession server(server_context->native(), sink, TlsSession::Role::kServer);
    server.accept();
    server.feed(garbage);
    CHECK(sink.failures.size() == 1);
    CHECK(server.state() == TlsSession::State::kFailed);
    server.feed(garbage);  // ignored from now on
    server.write("nothing");
    CHECK(sink.failures.size() == 1);
    CHECK(sink.received.empty());
  }
  // A real ClientHello, then garbage where the client's Finished should be.
  RawClient client({TLS1_3_VERSION});
  ServerSink sink;
  TlsSession server(server_context->native(), sink, TlsSession::Role::kServer);
  server.accept();
  server.feed(client.take_output());
  REQUIRE_FALSE(sink.to_client.empty());  // ServerHello..Finished
  server.feed(std::string("\x17\x03\x03\x00\x20", 5) + std::string(32, 'x'));
  CHECK(sink.established == 0);
  CHECK(sink.failures.size() == 1);
}

TEST_CASE("a corrupt record after the handshake fails the connection, the bytes before it arrive") {
  TestPki pki;
  auto server_context = context(pki, keys());
  RawClient client({TLS1_3_VERSION});
  ServerSink sink;
  TlsSession server(server_context->native(), sink, TlsSession::Role::kServer);
  server.accept();
  pump(client, server, sink);
  REQUIRE(sink.established == 1);
  client.write("first");
  std::string good = client.take_output();
  client.write("second");
  std::string bad = client.take_output();
  bad[bad.size() / 2] = static_cast<char>(bad[bad.size() / 2] ^ 0x5a);  // breaks the AEAD tag
  server.feed(good + bad);
  CHECK(sink.received == "first");
  CHECK(sink.failures.size() == 1);
  CHECK(server.state() == TlsSession::State::kFailed);
}

TEST_CASE("certificate and key errors are clear, a failed reload keeps the old context") {
  TestPki pki;
  const auto [cert, key] = pki.server_files();
  const auto [rogue_cert, rogue_key] = pki.server_files(true);
  const std::string empty = pki.temp_file("empty");
  std::string error;
  CHECK(TlsServerContext::create("/nonexistent/cert.pem", key, keys(), error) == nullptr);
  CHECK(error.find("cannot load the certificate chain '/nonexistent/cert.pem'") == 0);
  CHECK(TlsServerContext::create(cert, empty, keys(), error) == nullptr);
  CHECK(error.find("cannot load the private key '" + empty + "'") == 0);
  CHECK(TlsServerContext::create(cert, rogue_key, keys(), error) == nullptr);
  CHECK(error.find("cannot load the private key '" + rogue_key + "'") == 0);
  CHECK(error.find("key values mismatch") != std::string::npos);
  CHECK(TlsServerContext::check_files(cert, key) == std::nullopt);
  CHECK(TlsServerContext::check_files(empty, key).has_value());

  auto server_context = context(pki, keys());
  SSL_CTX* before = server_context->native();
  // An open connection made before the reload.
  RawClient early({TLS1_3_VERSION});
  ServerSink early_sink;
  TlsSession early_server(before, early_sink, TlsSession::Role::kServer);
  early_server.accept();
  pump(early, early_server, early_sink);
  REQUIRE(early_sink.established == 1);

  const auto failed = server_context->reload(cert, rogue_key);
  REQUIRE(failed.has_value());
  CHECK(failed->find("key values mismatch") != std::string::npos);
  CHECK(server_context->native() == before);

  REQUIRE(server_context->reload(rogue_cert, rogue_key) == std::nullopt);
  CHECK(server_context->native() != before);
  // New connections get the new certificate...
  RawClient later({TLS1_3_VERSION});
  ServerSink later_sink;
  TlsSession later_server(server_context->native(), later_sink, TlsSession::Role::kServer);
  later_server.accept();
  pump(later, later_server, later_sink);
  CHECK(later_sink.established == 1);
  // ...and the one opened before goes on working on the old context.
  early.write("still here");
  pump(early, early_server, early_sink);
  CHECK(early_sink.received == "still here");
}

TEST_CASE("the ticket secret round-trips as hex, anything else is refused") {
  const TicketSecret original = secret();
  const auto back = TicketSecret::from_hex(original.to_hex());
  REQUIRE(back.has_value());
  CHECK(back->bytes == original.bytes);
  CHECK_FALSE(TicketSecret::from_hex("abcd").has_value());
  CHECK_FALSE(TicketSecret::from_hex(std::string(64, 'g')).has_value());
}

TEST_CASE("ticket keys: one per period from the secret alone, name, HMAC and AES keys apart") {
  const TicketSecret a = secret();
  const TicketSecret b = secret();
  const auto k1 = sb::net::derive_ticket_key(a, 1000);
  CHECK(sb::net::derive_ticket_key(a, 1000).name == k1.name);  // any worker derives the same
  CHECK(sb::net::derive_ticket_key(a, 1000).aes == k1.aes);
  CHECK(sb::net::derive_ticket_key(a, 1001).name != k1.name);  // a new period, a new key
  CHECK(sb::net::derive_ticket_key(b, 1000).name != k1.name);  // another secret, another key
  CHECK(std::vector<unsigned char>(k1.hmac.begin(), k1.hmac.end()) !=
        std::vector<unsigned char>(k1.aes.begin(), k1.aes.end()));
  // The ring: the period is floor(now / rotation).
  std::uint64_t now = 3600 * 1000 + 5;
  TicketKeyRing ring(a, 3600, [&now] { return now; });
  CHECK(ring.current().name == k1.name);
  now += 3599 - 5;
  CHECK(ring.current().name == k1.name);
  now += 1;
  CHECK(ring.current().name == sb::net::derive_ticket_key(a, 1001).name);
  const sb::net::TicketKey* found = nullptr;
  CHECK(ring.find(k1.name.data(), found) == 2);  // the previous period's: renew
  CHECK(ring.find(sb::net::derive_ticket_key(a, 1001).name.data(), found) == 1);
  CHECK(ring.find(sb::net::derive_ticket_key(a, 999).name.data(), found) == 0);
}

TEST_CASE(
    "rotation: a ticket resumes on any worker in its period and the next, renewed, then not") {
  TestPki pki;
  const TicketSecret shared = secret();
  std::uint64_t now = 10'000 * 60;  // period 10,000 of 60 s
  const auto clock = [&now] { return now; };
  TicketKeyRing first_ring(shared, 60, clock);
  TicketKeyRing second_ring(shared, 60, clock);
  auto first_worker = context(pki, &first_ring);
  auto second_worker = context(pki, &second_ring);
  for (int version : {TLS1_3_VERSION, TLS1_2_VERSION}) {
    CAPTURE(version);
    now = 10'000 * 60 + 30;
    SSL_SESSION* ticket = nullptr;
    REQUIRE(handshake(*first_worker, version, nullptr, &ticket).established);
    REQUIRE(ticket != nullptr);
    // The lifetime the client is told: two periods.
    CHECK(SSL_SESSION_get_ticket_lifetime_hint(ticket) == 120);
    // Same period, both workers.
    CHECK(handshake(*first_worker, version, ticket).resumed);
    CHECK(handshake(*second_worker, version, ticket).resumed);
    // The next period: still opened, and the client gets a new ticket.
    now += 60;
    SSL_SESSION* renewed = nullptr;
    const Handshake next = handshake(*second_worker, version, ticket, &renewed);
    CHECK(next.resumed);
    REQUIRE(renewed != nullptr);
    // Two periods on: the old ticket is refused (a full handshake, which works),
    // the renewed one, sealed a period later, resumes.
    now += 60;
    const Handshake old = handshake(*first_worker, version, ticket);
    CHECK(old.established);
    CHECK_FALSE(old.resumed);
    CHECK(handshake(*first_worker, version, renewed).resumed);
    SSL_SESSION_free(renewed);
    SSL_SESSION_free(ticket);
  }
}

TEST_CASE("tls_ticket_rotation = 0: OpenSSL's own keys, resumed by the same context only") {
  TestPki pki;
  auto one = context(pki, nullptr);
  auto other = context(pki, nullptr);
  for (int version : {TLS1_3_VERSION, TLS1_2_VERSION}) {
    CAPTURE(version);
    SSL_SESSION* ticket = nullptr;
    REQUIRE(handshake(*one, version, nullptr, &ticket).established);
    REQUIRE(ticket != nullptr);
    CHECK(handshake(*one, version, ticket).resumed);
    const Handshake elsewhere = handshake(*other, version, ticket);
    CHECK(elsewhere.established);
    CHECK_FALSE(elsewhere.resumed);
    SSL_SESSION_free(ticket);
  }
}
