// How the client reached us, for the URLs we hand out (XEP-0156 host-meta): over
// https or http, and under which host name.
//
// A connection accepted on the TLS listener (tls_listen) is https. Behind a front
// proxy that ends TLS itself, every connection comes in plain from the proxy, and
// only the proxy knows what the client used: it says so in X-Forwarded-Proto /
// X-Forwarded-Host, or in Forwarded (RFC 7239) `proto=` / `host=`. As for the
// client's address (client_address.hpp), those headers are believed only from a
// `trusted_proxies` peer; anyone else's are ignored.
//
// Which value counts. X-Forwarded-Proto and X-Forwarded-Host are usually set (not
// appended) by the proxy next to us; if they hold a list, the last entry is the one
// that proxy wrote, the others may come from the client. They are used when either
// is sent. Otherwise Forwarded is walked like X-Forwarded-For: its last element was
// written by our peer; while an element's `for=` is itself a trusted proxy, the
// element before it was written by that proxy and is believed too, so the answer
// is the word of the outermost trusted proxy, the one the client spoke to.
// A host that is not a plain host[:port] (header_text.hpp's plain_host) is ignored.
#pragma once

#include <string>
#include <string_view>

#include "app/front/client_address.hpp"

namespace sb::app {

struct PublicOrigin {
  bool secure = false;  // https / wss
  std::string host;     // empty: the request's own Host
};

// `tls`: the connection is the TLS listener's. `peer`: the connection's peer (the
// socket's or the PROXY header's address). `trusted` may be null (no proxies).
PublicOrigin public_origin(bool tls, std::string_view peer, std::string_view x_forwarded_proto,
                           std::string_view x_forwarded_host, std::string_view forwarded,
                           const TrustedProxies* trusted);

}  // namespace sb::app
