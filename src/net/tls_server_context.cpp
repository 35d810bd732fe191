// Building the server SSL_CTX (see tls_server_context.hpp for the policy).
#include "net/tls_server_context.hpp"

#include <openssl/err.h>
#include <openssl/rand.h>
#include <openssl/ssl.h>

#include <cstring>

#include "net/tls_context.hpp"  // take_openssl_error()

namespace sb::net {

namespace {

constexpr unsigned char kHttp11[] = {8, 'h', 't', 't', 'p', '/', '1', '.', '1'};

// ALPN: choose http/1.1 from the client's list, or refuse the handshake.
int select_alpn(SSL*, const unsigned char** out, unsigned char* out_length,
                const unsigned char* offered, unsigned int offered_length, void*) {
  unsigned char* chosen = nullptr;
  unsigned char chosen_length = 0;
  if (SSL_select_next_proto(&chosen, &chosen_length, kHttp11, sizeof kHttp11, offered,
                            offered_length) != OPENSSL_NPN_NEGOTIATED) {
    return SSL_TLSEXT_ERR_ALERT_FATAL;  // no_application_protocol
  }
  *out = chosen;
  *out_length = chosen_length;
  return SSL_TLSEXT_ERR_OK;
}

int hex_digit(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

}  // namespace

std::optional<TicketKeys> TicketKeys::generate() {
  TicketKeys keys;
  if (RAND_bytes(keys.bytes.data(), static_cast<int>(keys.bytes.size())) != 1) return std::nullopt;
  return keys;
}

std::string TicketKeys::to_hex() const {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string hex;
  hex.reserve(kBytes * 2);
  for (unsigned char b : bytes) {
    hex.push_back(kDigits[b >> 4]);
    hex.push_back(kDigits[b & 15]);
  }
  return hex;
}

std::optional<TicketKeys> TicketKeys::from_hex(std::string_view hex) {
  if (hex.size() != kBytes * 2) return std::nullopt;
  TicketKeys keys;
  for (std::size_t i = 0; i < kBytes; ++i) {
    const int high = hex_digit(hex[2 * i]);
    const int low = hex_digit(hex[2 * i + 1]);
    if (high < 0 || low < 0) return std::nullopt;
    keys.bytes[i] = static_cast<unsigned char>(high * 16 + low);
  }
  return keys;
}

SSL_CTX* TlsServerContext::build(const std::string& cert_file, const std::string& key_file,
                                 const TicketKeys* keys, std::string& error) {
  ERR_clear_error();
  SSL_CTX* ctx = SSL_CTX_new(TLS_server_method());
  if (ctx == nullptr) {
    error = "cannot create a TLS context: " + take_openssl_error();
    return nullptr;
  }
  auto fail = [&](std::string what) {
    error = std::move(what);
    const std::string detail = take_openssl_error();
    if (!detail.empty()) error += ": " + detail;
    SSL_CTX_free(ctx);
    return nullptr;
  };
  if (SSL_CTX_use_certificate_chain_file(ctx, cert_file.c_str()) != 1) {
    return fail("cannot load the certificate chain '" + cert_file + "'");
  }
  if (SSL_CTX_use_PrivateKey_file(ctx, key_file.c_str(), SSL_FILETYPE_PEM) != 1) {
    return fail("cannot load the private key '" + key_file + "'");
  }
  if (SSL_CTX_check_private_key(ctx) != 1) {
    return fail("the private key '" + key_file + "' does not match the certificate '" +
                cert_file + "'");
  }
  SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
  SSL_CTX_set_options(ctx, SSL_OP_NO_RENEGOTIATION | SSL_OP_NO_COMPRESSION |
                               SSL_OP_CIPHER_SERVER_PREFERENCE);
  SSL_CTX_set_mode(ctx, SSL_MODE_RELEASE_BUFFERS);
  SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_OFF);
  SSL_CTX_set_num_tickets(ctx, 1);
  SSL_CTX_set_alpn_select_cb(ctx, &select_alpn, nullptr);
  static constexpr unsigned char kSessionContext[] = "switchboard";
  SSL_CTX_set_session_id_context(ctx, kSessionContext, sizeof kSessionContext - 1);
  if (keys != nullptr &&
      SSL_CTX_ctrl(ctx, SSL_CTRL_SET_TLSEXT_TICKET_KEYS, static_cast<long>(keys->bytes.size()),
                   const_cast<unsigned char*>(keys->bytes.data())) != 1) {
    return fail("cannot set the session ticket keys");
  }
  return ctx;
}

std::unique_ptr<TlsServerContext> TlsServerContext::create(const std::string& cert_file,
                                                           const std::string& key_file,
                                                           const TicketKeys& keys,
                                                           std::string& error) {
  SSL_CTX* ctx = build(cert_file, key_file, &keys, error);
  if (ctx == nullptr) return nullptr;
  return std::unique_ptr<TlsServerContext>(new TlsServerContext(ctx, keys));
}

std::optional<std::string> TlsServerContext::reload(const std::string& cert_file,
                                                    const std::string& key_file) {
  std::string error;
  SSL_CTX* ctx = build(cert_file, key_file, &keys_, error);
  if (ctx == nullptr) return error;
  // Connections made from the old context hold their own reference on it.
  SSL_CTX_free(ctx_);
  ctx_ = ctx;
  return std::nullopt;
}

std::optional<std::string> TlsServerContext::check_files(const std::string& cert_file,
                                                         const std::string& key_file) {
  std::string error;
  SSL_CTX* ctx = build(cert_file, key_file, nullptr, error);
  if (ctx == nullptr) return error;
  SSL_CTX_free(ctx);
  return std::nullopt;
}

TlsServerContext::~TlsServerContext() { SSL_CTX_free(ctx_); }

}  // namespace sb::net
