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
//   another worker gets a full handshake: the keys come from the caller
//   (TicketKeys, made once by the supervisor and given to every worker).
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

namespace sb::net {

// The session-ticket keys, as SSL_CTX_set_tlsext_ticket_keys takes them: 80 bytes,
// a 16-byte key name, a 32-byte HMAC secret and a 32-byte AES key.
struct TicketKeys {
  static constexpr std::size_t kBytes = 80;
  std::array<unsigned char, kBytes> bytes{};

  // Fresh random keys (RAND_bytes). nullopt only if the RNG fails.
  static std::optional<TicketKeys> generate();
  // As hex, and back (for handing them to worker processes). from_hex() returns
  // nullopt for anything but 160 hex digits.
  std::string to_hex() const;
  static std::optional<TicketKeys> from_hex(std::string_view hex);
};

class TlsServerContext {
 public:
  // Loads the PEM certificate chain and the private key and checks they match.
  // Returns null with the reason in `error`.
  static std::unique_ptr<TlsServerContext> create(const std::string& cert_file,
                                                  const std::string& key_file,
                                                  const TicketKeys& keys, std::string& error);
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
  TlsServerContext(SSL_CTX* ctx, const TicketKeys& keys) : ctx_(ctx), keys_(keys) {}
  static SSL_CTX* build(const std::string& cert_file, const std::string& key_file,
                        const TicketKeys* keys, std::string& error);

  SSL_CTX* ctx_;
  TicketKeys keys_;
};

}  // namespace sb::net
