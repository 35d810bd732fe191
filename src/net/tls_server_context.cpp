// Building the server SSL_CTX (see tls_server_context.hpp for the policy).
#include "net/tls_server_context.hpp"

#include <openssl/err.h>
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

}  // namespace

SSL_CTX* TlsServerContext::build(const std::string& cert_file, const std::string& key_file,
                                 TicketKeyRing* tickets, std::string& error) {
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
    return fail("the private key '" + key_file + "' does not match the certificate '" + cert_file +
                "'");
  }
  SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
  SSL_CTX_set_options(
      ctx, SSL_OP_NO_RENEGOTIATION | SSL_OP_NO_COMPRESSION | SSL_OP_CIPHER_SERVER_PREFERENCE);
  SSL_CTX_set_mode(ctx, SSL_MODE_RELEASE_BUFFERS);
  SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_OFF);
  SSL_CTX_set_num_tickets(ctx, 1);
  SSL_CTX_set_alpn_select_cb(ctx, &select_alpn, nullptr);
  static constexpr unsigned char kSessionContext[] = "switchboard";
  SSL_CTX_set_session_id_context(ctx, kSessionContext, sizeof kSessionContext - 1);
  if (tickets != nullptr && !tickets->install(ctx)) {
    return fail("cannot set the session ticket keys");
  }
  return ctx;
}

std::unique_ptr<TlsServerContext> TlsServerContext::create(const std::string& cert_file,
                                                           const std::string& key_file,
                                                           TicketKeyRing* tickets,
                                                           std::string& error) {
  SSL_CTX* ctx = build(cert_file, key_file, tickets, error);
  if (ctx == nullptr) return nullptr;
  return std::unique_ptr<TlsServerContext>(new TlsServerContext(ctx, tickets));
}

std::optional<std::string> TlsServerContext::reload(const std::string& cert_file,
                                                    const std::string& key_file) {
  std::string error;
  SSL_CTX* ctx = build(cert_file, key_file, tickets_, error);
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
