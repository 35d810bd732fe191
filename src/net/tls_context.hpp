// TlsContext: the OpenSSL SSL_CTX that every TLS client connection of one worker
// shares: protocol floor, trust store, verification policy and the memory mode.
//
// One per worker process, not one per connection: the trust store alone (the
// system's CA bundle, parsed) is hundreds of kilobytes, while each connection's
// SSL object refers to the context and only adds its own keys and state (see
// tls_session.hpp). SSL objects hold a reference on the SSL_CTX, so a context may
// be destroyed while connections made from it are still closing.
//
// Policy, and why:
// - TLS 1.2 at least; renegotiation refused (a client that never renegotiates has
//   no use for it, and it is where old attacks lived);
// - SSL_MODE_RELEASE_BUFFERS: an idle connection gives its 16 KB record buffers back
//   (a million idle sessions is the target, and a TLS link is idle most of the time);
// - no client session cache: each link is one long-lived stream, resumption would
//   buy little and cost a cache;
// - verification on by default, against the system store or one CA file, with the
//   host name (set per connection) checked against the certificate's DNS names.
#pragma once

#include <openssl/types.h>  // SSL_CTX, without all of <openssl/ssl.h>

#include <memory>
#include <string>

namespace sb::net {

struct TlsClientOptions {
  // Verify the server's certificate chain and its name. Off only for tests or a
  // server on a trusted network whose certificate cannot be verified.
  bool verify_peer = true;
  // PEM file of the CAs to trust; empty = the system's default store.
  std::string ca_file;
};

class TlsContext {
 public:
  // Returns null, with the reason in `error`, when OpenSSL cannot build the context
  // (for example a CA file that is missing or holds no certificate).
  static std::unique_ptr<TlsContext> create_client(const TlsClientOptions& options,
                                                   std::string& error);
  TlsContext(const TlsContext&) = delete;
  TlsContext& operator=(const TlsContext&) = delete;
  ~TlsContext();

  SSL_CTX* native() const { return ctx_; }
  bool verify_peer() const { return verify_peer_; }

 private:
  TlsContext(SSL_CTX* ctx, bool verify_peer) : ctx_(ctx), verify_peer_(verify_peer) {}

  SSL_CTX* ctx_;
  bool verify_peer_;
};

// The most recent OpenSSL error of this thread as text ("" if none), and clears the
// thread's error queue so the next operation starts clean.
std::string take_openssl_error();

}  // namespace sb::net
