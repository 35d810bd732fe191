// HostMeta: XEP-0156 connection discovery. GET /.well-known/host-meta (an XRD
// document, RFC 6415) and /.well-known/host-meta.json (its JRD form) name our
// BOSH URL (urn:xmpp:alt-connections:xbosh) and, when WebSocket is on, our
// WebSocket URL (urn:xmpp:alt-connections:websocket), so a client configured
// with a bare domain (Converse.js with discover_connection_methods) finds them.
//
// The URLs are public_bosh_url and public_websocket_url when set. Otherwise they
// are built from the request's Host (the name the client used to reach us) and the
// scheme the client used: https:// and wss:// for a request that came over the TLS
// listener, or from a trusted proxy that says its client used https
// (X-Forwarded-Proto, Forwarded proto=; public_origin.hpp), else http:// and ws://.
// Such a proxy's X-Forwarded-Host or Forwarded host= replaces the Host. A Host that
// is not a plain host[:port] is not echoed: the listen address is used instead. CORS headers come from the connection, with the same policy as
// BOSH (a browser fetches these cross-origin); the router answers preflights.
#pragma once

#include <string>

#include "http/exchange.hpp"

namespace sb::app {

struct HostMetaUrls {
  std::string bosh_path;
  std::string websocket_path;        // empty: WebSocket is off, not advertised
  std::string public_bosh_url;       // empty: from the request's Host
  std::string public_websocket_url;  // empty: from the request's Host
  std::string fallback_host;         // host:port when the request has no usable Host
  std::string tls_fallback_host;     // the same for https (tls_listen); empty: fallback_host
};

class HostMeta final : public http::Handler {
 public:
  static constexpr const char* kXrdPath = "/.well-known/host-meta";
  static constexpr const char* kJrdPath = "/.well-known/host-meta.json";

  explicit HostMeta(HostMetaUrls urls) : urls_(std::move(urls)) {}
  void handle(http::Request& request, http::Exchange& exchange) override;

  // The documents, for a request that reached us as `host`, over https if `secure`.
  std::string xrd(std::string_view host, bool secure = false) const;
  std::string jrd(std::string_view host, bool secure = false) const;

  std::string bosh_url(std::string_view host, bool secure) const;
  std::string websocket_url(std::string_view host, bool secure) const;

 private:
  HostMetaUrls urls_;
};

}  // namespace sb::app
