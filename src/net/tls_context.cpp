// Building the shared client SSL_CTX (see tls_context.hpp for the policy).
#include "net/tls_context.hpp"

#include <openssl/err.h>
#include <openssl/ssl.h>

#include <array>

namespace sb::net {

std::string take_openssl_error() {
  const unsigned long code = ERR_peek_last_error();
  std::string text;
  if (code != 0) {
    std::array<char, 256> buffer{};
    ERR_error_string_n(code, buffer.data(), buffer.size());
    text = buffer.data();
  }
  ERR_clear_error();
  return text;
}

std::unique_ptr<TlsContext> TlsContext::create_client(const TlsClientOptions& options,
                                                      std::string& error) {
  ERR_clear_error();
  SSL_CTX* ctx = SSL_CTX_new(TLS_client_method());
  if (ctx == nullptr) {
    error = "cannot create a TLS context: " + take_openssl_error();
    return nullptr;
  }
  auto context = std::unique_ptr<TlsContext>(new TlsContext(ctx, options.verify_peer));
  SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
  SSL_CTX_set_options(ctx, SSL_OP_NO_RENEGOTIATION | SSL_OP_NO_COMPRESSION);
  SSL_CTX_set_mode(ctx, SSL_MODE_RELEASE_BUFFERS);
  SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_OFF);
  if (!options.verify_peer) {
    SSL_CTX_set_verify(ctx, SSL_VERIFY_NONE, nullptr);
    return context;
  }
  SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, nullptr);
  if (options.ca_file.empty()) {
    // The distribution's bundle and hashed directory (on Debian /etc/ssl/certs).
    if (SSL_CTX_set_default_verify_paths(ctx) != 1) {
      error = "cannot load the system's CA certificates: " + take_openssl_error();
      return nullptr;
    }
  } else if (SSL_CTX_load_verify_locations(ctx, options.ca_file.c_str(), nullptr) != 1) {
    error = "cannot load CA file '" + options.ca_file + "': " + take_openssl_error();
    return nullptr;
  }
  return context;
}

TlsContext::~TlsContext() { SSL_CTX_free(ctx_); }

}  // namespace sb::net
