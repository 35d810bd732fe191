// fuzz_tls_server: the HTTPS listener's TLS (a server-side net::TlsSession on a
// TlsServerContext) on hostile client bytes: garbage before and inside the
// handshake, which is where a stranger's bytes meet OpenSSL's parser through our
// memory BIO.
//
// The same bytes are fed twice to fresh sessions: whole, and cut at points chosen
// by the input. Each run checks what the socket code relies on: tls_failed() at
// most once and nothing after it (no plaintext, no established, no more output);
// tls_established() at most once; no plaintext before the handshake completes;
// writes from above before that are held, not sent in clear; and the session
// never holds on to input between calls (all of it is consumed by feed()).
//
// Input: byte 0 = seed of the cut points, the rest = what the client sent.
// The certificate is made once, in memory, at start (ECDSA P-256).
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <string>
#include <string_view>

#include "net/tls_server_context.hpp"
#include "net/tls_session.hpp"
#include "support/check.hpp"

namespace {

using sb::net::TlsServerContext;
using sb::net::TlsSession;

// A self-signed certificate and its key in two temp files, removed at exit.
struct Files {
  std::string cert = "/tmp/sb-fuzz-tls-cert-XXXXXX";
  std::string key = "/tmp/sb-fuzz-tls-key-XXXXXX";
  Files() {
    EVP_PKEY* pkey = EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", "P-256");
    X509* x509 = X509_new();
    X509_set_version(x509, 2);
    ASN1_INTEGER_set(X509_get_serialNumber(x509), 1);
    X509_gmtime_adj(X509_getm_notBefore(x509), -3600);
    X509_gmtime_adj(X509_getm_notAfter(x509), 86400);
    X509_set_pubkey(x509, pkey);
    X509_NAME_add_entry_by_txt(X509_get_subject_name(x509), "CN", MBSTRING_ASC,
                               reinterpret_cast<const unsigned char*>("localhost"), -1, -1, 0);
    X509_set_issuer_name(x509, X509_get_subject_name(x509));
    FUZZ_CHECK(X509_sign(x509, pkey, EVP_sha256()) > 0, "cannot sign the test certificate");
    for (std::string* path : {&cert, &key}) {
      const int fd = mkstemp(path->data());
      FUZZ_CHECK(fd >= 0, "mkstemp");
      close(fd);
    }
    FILE* file = std::fopen(cert.c_str(), "w");
    PEM_write_X509(file, x509);
    std::fclose(file);
    file = std::fopen(key.c_str(), "w");
    PEM_write_PrivateKey(file, pkey, nullptr, nullptr, 0, nullptr, nullptr);
    std::fclose(file);
    X509_free(x509);
    EVP_PKEY_free(pkey);
  }
  ~Files() {
    std::remove(cert.c_str());
    std::remove(key.c_str());
  }
};

TlsServerContext& context() {
  static Files files;
  static std::unique_ptr<TlsServerContext> made = [] {
    auto secret = sb::net::TicketSecret::generate();
    FUZZ_CHECK(secret.has_value(), "RAND_bytes");
    static sb::net::TicketKeyRing tickets(*secret, 3600);
    std::string error;
    auto ctx = TlsServerContext::create(files.cert, files.key, &tickets, error);
    FUZZ_CHECK(ctx != nullptr, error);
    return ctx;
  }();
  return *made;
}

// Written before the handshake completes: it must never reach the wire in clear.
constexpr std::string_view kHeldBack = "held back until the handshake completes";

class Sink final : public sb::net::TlsSessionSink {
 public:
  // `marker_in_input`: the client's own bytes hold the marker. The server echoes
  // some of them in clear (the ClientHello's legacy_session_id comes back in the
  // ServerHello), so the marker in the output then proves nothing.
  Sink(TlsSession*& session, bool marker_in_input)
      : session_(session), marker_in_input_(marker_in_input) {}
  void tls_send(std::string&& ciphertext) override {
    FUZZ_CHECK(!failed_reported_, "output after tls_failed");
    FUZZ_CHECK(marker_in_input_ || ciphertext.find(kHeldBack.substr(0, 9)) == std::string::npos,
               "plaintext sent in clear");
    sent += ciphertext.size();
  }
  void tls_established() override {
    FUZZ_CHECK(established == 0, "tls_established twice");
    FUZZ_CHECK(failed == 0, "tls_established after tls_failed");
    ++established;
  }
  void tls_received(std::string_view) override {
    FUZZ_CHECK(established == 1, "plaintext before the handshake completed");
    FUZZ_CHECK(failed == 0, "plaintext after tls_failed");
  }
  void tls_peer_closed() override { FUZZ_CHECK(established == 1, "close_notify before open"); }
  void tls_failed(std::string_view reason) override {
    FUZZ_CHECK(failed == 0, "tls_failed twice");
    FUZZ_CHECK(!reason.empty(), "tls_failed without a reason");
    ++failed;
    // The alert (if any) was flushed before the report: nothing may follow.
    failed_reported_ = true;
    (void)session_;
  }
  int established = 0;
  int failed = 0;
  std::size_t sent = 0;

 private:
  TlsSession*& session_;
  bool marker_in_input_;
  bool failed_reported_ = false;
};

void run(std::string_view client, std::uint8_t seed, bool cut) {
  TlsSession* self = nullptr;
  Sink sink(self, client.find(kHeldBack.substr(0, 9)) != std::string_view::npos);
  TlsSession session(context().native(), sink, TlsSession::Role::kServer);
  self = &session;
  session.accept();
  session.write(kHeldBack);
  std::size_t at = 0;
  std::uint32_t state = seed * 2654435761u + 1;
  while (at < client.size()) {
    std::size_t n = client.size() - at;
    if (cut) {
      state = state * 1103515245u + 12345u;
      n = std::min<std::size_t>(n, 1 + (state >> 16) % 700);
    }
    session.feed(client.substr(at, n));
    at += n;
    if (session.state() == TlsSession::State::kFailed) {
      FUZZ_CHECK(sink.failed == 1, "failed state without tls_failed");
    }
  }
  // Everything after a failure is ignored.
  if (session.state() == TlsSession::State::kFailed) {
    const std::size_t sent = sink.sent;
    session.feed(client);
    session.write("more");
    session.close_notify();
    FUZZ_CHECK(sink.sent == sent, "output after failure");
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < 1) return 0;
  const std::string_view client(reinterpret_cast<const char*>(data) + 1, size - 1);
  run(client, data[0], false);
  run(client, data[0], true);
  return 0;
}
