// See routing.hpp.
#include "bosh/routing.hpp"

#include "base/ascii_case.hpp"

namespace sb::bosh {

std::optional<UpstreamAddress> route_upstream(const EngineSettings& settings,
                                              std::string_view to_as_sent,
                                              const std::string* route) {
  // The configuration holds domain names in lowercase.
  const std::string to = base::lowercase(to_as_sent);
  if (route != nullptr && route->rfind("xmpp:", 0) == 0) {
    std::string_view rest = std::string_view(*route).substr(5);
    const auto colon = rest.rfind(':');
    if (colon != std::string_view::npos) {
      const std::string host = base::lowercase(rest.substr(0, colon));
      std::string_view port = rest.substr(colon + 1);
      for (const auto& allowed : settings.allowed_routes) {
        if (allowed.host == host && std::to_string(allowed.port) == port) return allowed;
      }
    }
  }
  if (auto it = settings.domains.find(to); it != settings.domains.end()) return it->second;
  if (!settings.default_upstream.host.empty()) return settings.default_upstream;
  return std::nullopt;
}

}  // namespace sb::bosh
