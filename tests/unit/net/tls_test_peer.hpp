// Test helpers for TLS: certificates made in memory at test time, and a TLS server
// written directly against OpenSSL (two standard mem BIOs, SSL_accept state), so the
// client under test (net::TlsSession) is checked against an implementation that
// shares none of its code.
//
// TestPki makes a CA, a server certificate it signs (for "localhost" and
// "xmpp.test"), and a self-signed certificate for the same names that no CA vouches
// for; the CA certificate is also written to a temp file for `ca_file`. Keys are
// P-256, which OpenSSL generates in well under a millisecond.
//
// TestTlsServer is byte-driven like the client: feed() what the client sent,
// take_output() what to send back. Recorder-style fields tell the test what happened.
#pragma once

#include <doctest/doctest.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace sb::net::test {

inline EVP_PKEY* make_key() { return EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", "P-256"); }

inline void add_extension(X509* cert, X509* issuer, int nid, const char* value) {
  X509V3_CTX ctx;
  X509V3_set_ctx(&ctx, issuer, cert, nullptr, nullptr, 0);
  X509_EXTENSION* ext = X509V3_EXT_conf_nid(nullptr, &ctx, nid, value);
  REQUIRE(ext != nullptr);
  X509_add_ext(cert, ext, -1);
  X509_EXTENSION_free(ext);
}

// A certificate for `key` named `common_name`, signed by `issuer` (itself if null).
inline X509* make_cert(EVP_PKEY* key, const char* common_name, X509* issuer, EVP_PKEY* issuer_key,
                       bool is_ca, const char* alt_names, long serial) {
  X509* cert = X509_new();
  X509_set_version(cert, 2);
  ASN1_INTEGER_set(X509_get_serialNumber(cert), serial);
  X509_gmtime_adj(X509_getm_notBefore(cert), -3600);
  X509_gmtime_adj(X509_getm_notAfter(cert), 86400);
  X509_set_pubkey(cert, key);
  X509_NAME* name = X509_get_subject_name(cert);
  X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC,
                             reinterpret_cast<const unsigned char*>(common_name), -1, -1, 0);
  X509* signer = issuer == nullptr ? cert : issuer;
  X509_set_issuer_name(cert, X509_get_subject_name(signer));
  if (is_ca) {
    add_extension(cert, signer, NID_basic_constraints, "critical,CA:TRUE");
    add_extension(cert, signer, NID_key_usage, "critical,keyCertSign,cRLSign");
  } else {
    add_extension(cert, signer, NID_basic_constraints, "CA:FALSE");
    add_extension(cert, signer, NID_subject_alt_name, alt_names);
  }
  REQUIRE(X509_sign(cert, issuer_key == nullptr ? key : issuer_key, EVP_sha256()) > 0);
  return cert;
}

class TestPki {
 public:
  TestPki() {
    ca_key_ = make_key();
    ca_ = make_cert(ca_key_, "Switchboard Test CA", nullptr, nullptr, true, nullptr, 1);
    server_key_ = make_key();
    server_ =
        make_cert(server_key_, "localhost", ca_, ca_key_, false, "DNS:localhost,DNS:xmpp.test", 2);
    rogue_key_ = make_key();
    rogue_ = make_cert(rogue_key_, "localhost", nullptr, nullptr, false,
                       "DNS:localhost,DNS:xmpp.test", 3);
    char path[] = "/tmp/sb-tls-ca-XXXXXX";
    const int fd = mkstemp(path);
    REQUIRE(fd >= 0);
    close(fd);
    ca_file_ = path;
    FILE* file = std::fopen(path, "w");
    REQUIRE(file != nullptr);
    PEM_write_X509(file, ca_);
    std::fclose(file);
  }
  TestPki(const TestPki&) = delete;
  TestPki& operator=(const TestPki&) = delete;
  ~TestPki() {
    std::remove(ca_file_.c_str());
    for (const std::string& path : extra_files_) std::remove(path.c_str());
    for (X509* cert : {ca_, server_, rogue_}) X509_free(cert);
    for (EVP_PKEY* key : {ca_key_, server_key_, rogue_key_}) EVP_PKEY_free(key);
  }

  const std::string& ca_file() const { return ca_file_; }

  // The CA-signed server certificate (or the self-signed one) and its key as PEM
  // files, for code that loads them by name; removed with the TestPki.
  std::pair<std::string, std::string> server_files(bool rogue = false) {
    std::string cert = temp_file("cert");
    std::string key = temp_file("key");
    FILE* file = std::fopen(cert.c_str(), "w");
    REQUIRE(file != nullptr);
    PEM_write_X509(file, rogue ? rogue_ : server_);
    std::fclose(file);
    file = std::fopen(key.c_str(), "w");
    REQUIRE(file != nullptr);
    PEM_write_PrivateKey(file, rogue ? rogue_key_ : server_key_, nullptr, nullptr, 0, nullptr,
                         nullptr);
    std::fclose(file);
    return {cert, key};
  }

  // An empty temp file named after `what`, removed with the TestPki.
  std::string temp_file(const char* what) {
    std::string path = std::string("/tmp/sb-tls-") + what + "-XXXXXX";
    const int fd = mkstemp(path.data());
    REQUIRE(fd >= 0);
    close(fd);
    extra_files_.push_back(path);
    return path;
  }

  // A server context presenting the CA-signed certificate (or the self-signed one).
  SSL_CTX* server_context(bool rogue = false, int max_version = 0) const {
    SSL_CTX* ctx = SSL_CTX_new(TLS_server_method());
    REQUIRE(ctx != nullptr);
    REQUIRE(SSL_CTX_use_certificate(ctx, rogue ? rogue_ : server_) == 1);
    REQUIRE(SSL_CTX_use_PrivateKey(ctx, rogue ? rogue_key_ : server_key_) == 1);
    if (max_version != 0) SSL_CTX_set_max_proto_version(ctx, max_version);
    return ctx;
  }

 private:
  EVP_PKEY* ca_key_;
  X509* ca_;
  EVP_PKEY* server_key_;
  X509* server_;
  EVP_PKEY* rogue_key_;
  X509* rogue_;
  std::string ca_file_;
  std::vector<std::string> extra_files_;
};

// Owns an SSL_CTX for the length of a test.
struct ServerContext {
  SSL_CTX* ctx;
  explicit ServerContext(SSL_CTX* c) : ctx(c) {}
  ~ServerContext() { SSL_CTX_free(ctx); }
  ServerContext(const ServerContext&) = delete;
  ServerContext& operator=(const ServerContext&) = delete;
};

// One end of a TLS connection on two OpenSSL memory BIOs, written directly on
// OpenSSL (none of our code): bytes from the other end go in with feed(), bytes
// for it come out of take_output(). The handshake and reads advance on feed().
class MemoryBioPeer {
 public:
  MemoryBioPeer(const MemoryBioPeer&) = delete;
  MemoryBioPeer& operator=(const MemoryBioPeer&) = delete;
  ~MemoryBioPeer() { SSL_free(ssl_); }

  void feed(std::string_view bytes) {
    if (!bytes.empty()) BIO_write(in_, bytes.data(), static_cast<int>(bytes.size()));
    progress();
  }

  std::string take_output() {
    std::string out;
    char buffer[4096];
    int n = 0;
    while ((n = BIO_read(out_, buffer, sizeof buffer)) > 0)
      out.append(buffer, static_cast<std::size_t>(n));
    return out;
  }

  void write(std::string_view plaintext) {
    REQUIRE(SSL_write(ssl_, plaintext.data(), static_cast<int>(plaintext.size())) > 0);
  }
  // A clean close: OpenSSL marks the session of a connection freed without one
  // not resumable (it might have been cut off by an attacker).
  void close_notify() { SSL_shutdown(ssl_); }

  bool established() const { return SSL_is_init_finished(ssl_) == 1; }

  std::string received;
  bool got_close_notify = false;
  bool failed = false;  // an alert was received or sent, or a record was bad

 protected:
  // Takes `ssl` (SSL_new'd) and gives it the two BIOs, as a server or a client.
  MemoryBioPeer(SSL* ssl, bool server) : ssl_(ssl) {
    REQUIRE(ssl_ != nullptr);
    in_ = BIO_new(BIO_s_mem());
    out_ = BIO_new(BIO_s_mem());
    SSL_set_bio(ssl_, in_, out_);
    if (server) {
      SSL_set_accept_state(ssl_);
    } else {
      SSL_set_connect_state(ssl_);
    }
  }
  SSL* ssl_;

 private:
  void progress() {
    if (failed || got_close_notify) return;
    if (!established()) {
      ERR_clear_error();
      const int rc = SSL_do_handshake(ssl_);
      if (rc != 1) {
        if (SSL_get_error(ssl_, rc) != SSL_ERROR_WANT_READ) failed = true;
        ERR_clear_error();
        return;
      }
    }
    char buffer[16384];
    for (;;) {
      ERR_clear_error();
      const int n = SSL_read(ssl_, buffer, sizeof buffer);
      if (n > 0) {
        received.append(buffer, static_cast<std::size_t>(n));
        continue;
      }
      const int error = SSL_get_error(ssl_, n);
      if (error == SSL_ERROR_ZERO_RETURN) got_close_notify = true;
      if (error != SSL_ERROR_WANT_READ && error != SSL_ERROR_ZERO_RETURN) failed = true;
      ERR_clear_error();
      return;
    }
  }

  BIO* in_;
  BIO* out_;
};

// The server end, on a context the test made (see TestPki).
class TestTlsServer final : public MemoryBioPeer {
 public:
  explicit TestTlsServer(SSL_CTX* ctx) : MemoryBioPeer(SSL_new(ctx), true) {}
  const char* sni() const { return SSL_get_servername(ssl_, TLSEXT_NAMETYPE_host_name); }
};

}  // namespace sb::net::test
