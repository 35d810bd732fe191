// See routing.hpp.
#include "engine/routing.hpp"

#include <algorithm>

#include "base/ascii_case.hpp"

namespace sb::engine {

std::optional<UpstreamAddress> parse_route(std::string_view route, std::string* error) {
  const auto colon = route.find(':');
  if (colon == std::string_view::npos ||
      !base::equals_ignoring_case(route.substr(0, colon), "xmpp")) {
    if (error != nullptr) *error = "route must look like xmpp:host:port";
    return std::nullopt;
  }
  return base::parse_host_port(route.substr(colon + 1), error);
}

std::optional<UpstreamAddress> route_upstream(const RoutingSettings& settings,
                                              std::string_view to_as_sent,
                                              const std::string* route) {
  if (route != nullptr && !settings.allowed_routes.empty()) {
    // A route that does not parse, or names no allowed entry, is not honoured: the
    // session goes where its `to` says, as if it had asked for none.
    if (const auto asked = parse_route(*route)) {
      const auto& allowed = settings.allowed_routes;
      if (auto it = std::find(allowed.begin(), allowed.end(), *asked); it != allowed.end())
        return *it;
    }
  }
  // The configuration holds domain names in lowercase.
  const std::string to = base::lowercase(to_as_sent);
  if (auto it = settings.domains.find(to); it != settings.domains.end()) return it->second;
  if (!settings.default_upstream.host.empty()) return settings.default_upstream;
  return std::nullopt;
}

}  // namespace sb::engine
