// Routing: which XMPP server a new session goes to, for both transports.
//
// A BOSH session asks at its creation request (`to`, and perhaps `route`), a
// WebSocket session at its first <open/> (`to` only: RFC 7395 has no route). Both
// must land on the same server for the same domain, so the rule lives here once:
// `route='xmpp:host:port'` only when it names an allowed_routes entry (a connection
// manager must never become an open relay), then the domain's own upstream, then
// the default one, else none (host-unknown).
//
// The `route` attribute is read by parse_route() alone, with the configuration's
// own host:port rules (base/host_port.hpp): the scheme in any case, an IPv6 literal
// in brackets, the host lower-cased. So a route compares with an allowed_routes
// entry exactly as the configuration wrote that entry down.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/host_port.hpp"

namespace sb::engine {

// A server's address: host (lower case, an IPv6 literal without brackets) and port.
using UpstreamAddress = base::HostPort;

// Where sessions go. A domain with an entry in `domains` goes there, any other
// domain to `default_upstream` (if its host is empty, unknown domains end with
// host-unknown). `route` is honoured only when it names an allowed_routes entry.
// Domains are keyed in lower case.
struct RoutingSettings {
  UpstreamAddress default_upstream;
  std::map<std::string, UpstreamAddress, std::less<>> domains;
  std::vector<UpstreamAddress> allowed_routes;
};

// The XEP-0124 `route` attribute, "xmpp:host:port": the scheme compared without
// regard to case (only xmpp), the rest as parse_host_port() reads it. nullopt for
// anything else; `error` (if given) then says why, in a few words.
std::optional<UpstreamAddress> parse_route(std::string_view route, std::string* error = nullptr);

// `route` may be null (none asked for). Domains compare case-insensitively.
std::optional<UpstreamAddress> route_upstream(const RoutingSettings& settings, std::string_view to,
                                              const std::string* route);

}  // namespace sb::engine
