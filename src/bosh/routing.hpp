// route_upstream: which XMPP server a new session goes to, for both transports.
//
// A BOSH session asks at its creation request (`to`, and perhaps `route`), a
// WebSocket session at its first <open/> (`to` only: RFC 7395 has no route). Both
// must land on the same server for the same domain, so the rule lives here once:
// `route='xmpp:host:port'` only when it names an allowed_routes entry (a connection
// manager must never become an open relay), then the domain's own upstream, then
// the default one, else none (host-unknown).
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "bosh/settings.hpp"

namespace sb::bosh {

// `route` may be null (none asked for). Domains compare case-insensitively.
std::optional<UpstreamAddress> route_upstream(const EngineSettings& settings, std::string_view to,
                                              const std::string* route);

}  // namespace sb::bosh
