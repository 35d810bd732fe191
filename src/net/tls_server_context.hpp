// TlsServerContext: the SSL_CTX of a worker's HTTPS listener (tls_listen), and the
// one place that knows the server-side TLS policy.
//
// Policy, and why:
// - TLS 1.2 and 1.3 only, renegotiation and compression off (as for the upstream
//   client context, tls_context.hpp);
// - ALPN: "http/1.1" is the only protocol we speak; a client that offers ALPN
//   without it gets the no_application_protocol alert (RFC 7301 §3.2), one that
//   offers none is served anyway;
// - SSL_MODE_RELEASE_BUFFERS: an idle connection gives its record buffers back;
// - resumption by session tickets only (no server-side cache, nothing per client
//   kept here), one ticket per handshake rather than OpenSSL's two. Every worker
//   of the port must encrypt tickets with the same keys, or a client resuming on
//   another worker gets a full handshake: the keys come from the caller's
//   TicketKeyRing (ticket_keys.hpp: derived per period from one secret the
//   supervisor gives every worker). Without a ring, OpenSSL's own keys, made per
//   process (tls_ticket_rotation = 0).
//
// reload() swaps in a context built from new certificate and key files; new
// connections use it, connections already open keep the context they started with
// (each SSL object holds a reference on its SSL_CTX), so no session is dropped.
// A reload that fails changes nothing.
#pragma once

#include <openssl/types.h>

#include <array>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "net/ticket_keys.hpp"

namespace sb::net {

class TlsServerContext {
 public:
  // Loads the PEM certificate chain and the private key and checks they match.
  // Returns null with the reason in `error`. `tickets` (may be null: OpenSSL's
  // own keys) must outlive this context and every connection made from it.
  static std::unique_ptr<TlsServerContext> create(const std::string& cert_file,
                                                  const std::string& key_file,
                                                  TicketKeyRing* tickets, std::string& error);
  TlsServerContext(const TlsServerContext&) = delete;
  TlsServerContext& operator=(const TlsServerContext&) = delete;
  ~TlsServerContext();

  // Builds a context from the new files; on success new connections use it. The
  // result is the reason for a failure (the old context stays), nullopt on success.
  [[nodiscard]] std::optional<std::string> reload(const std::string& cert_file,
                                                  const std::string& key_file);

  // The context for a connection accepted now.
  SSL_CTX* native() const { return ctx_; }

  // Just the checks of create(), for --check-config: nullopt if the files load.
  static std::optional<std::string> check_files(const std::string& cert_file,
                                                const std::string& key_file);

 private:
  TlsServerContext(SSL_CTX* ctx, TicketKeyRing* tickets) : ctx_(ctx), tickets_(tickets) {}
  static SSL_CTX* build(const std::string& cert_file, const std::string& key_file,
                        TicketKeyRing* tickets, std::string& error);

  SSL_CTX* ctx_;
  TicketKeyRing* tickets_;
};

}  // namespace sb::net
