// Routing: the `route` attribute read once (parse_route), and route_upstream's
// order (an allowed route, the domain's upstream, the default, none).
#include <doctest/doctest.h>

#include <string>

#include "engine/routing.hpp"

using sb::engine::parse_route;
using sb::engine::route_upstream;
using sb::engine::RoutingSettings;
using sb::engine::UpstreamAddress;

namespace doctest {
template <>
struct StringMaker<UpstreamAddress> {
  static String convert(const UpstreamAddress& address) {
    return String(address.to_string().c_str());
  }
};
}  // namespace doctest

namespace {

RoutingSettings settings() {
  RoutingSettings s;
  s.default_upstream = {"default.internal", 5222};
  s.domains["chat.example"] = {"10.0.0.7", 5223};
  s.allowed_routes = {{"xmpp.internal", 5299}, {"::1", 5222}};  // as the configuration stores them
  return s;
}

std::string host_for(const RoutingSettings& s, std::string_view to, const std::string* route) {
  const auto address = route_upstream(s, to, route);
  return address ? address->to_string() : "none";
}

}  // namespace

TEST_CASE("parse_route: xmpp:host:port, the scheme in any case, IPv6 in brackets") {
  CHECK(parse_route("xmpp:example.com:5222") == UpstreamAddress{"example.com", 5222});
  CHECK(parse_route("XMPP:[::1]:5222") == UpstreamAddress{"::1", 5222});
  CHECK(parse_route("Xmpp:XMPP.Internal:5299") == UpstreamAddress{"xmpp.internal", 5299});
  std::string error;
  CHECK_FALSE(parse_route("http:example.com:5222", &error));
  CHECK(error == "route must look like xmpp:host:port");
  CHECK_FALSE(parse_route("example.com", &error));
  CHECK_FALSE(parse_route("xmpp:example.com", &error));
  CHECK(error == "missing port");
  CHECK_FALSE(parse_route("xmpp://example.com:5222"));  // proto:host:port, not a URI
  CHECK_FALSE(parse_route("xmpp:::1:5222"));            // an IPv6 literal needs its brackets
  CHECK_FALSE(parse_route(""));
}

TEST_CASE("route_upstream: an allowed route, whatever the case of its scheme and host") {
  const RoutingSettings s = settings();
  const std::string plain = "xmpp:xmpp.internal:5299";
  const std::string upper = "XMPP:XMPP.INTERNAL:5299";
  const std::string ipv6 = "xmpp:[::1]:5222";
  const std::string ipv6_upper = "XMPP:[::1]:5222";
  CHECK(host_for(s, "chat.example", &plain) == "xmpp.internal:5299");
  CHECK(host_for(s, "chat.example", &upper) == "xmpp.internal:5299");
  CHECK(host_for(s, "chat.example", &ipv6) == "[::1]:5222");
  CHECK(host_for(s, "chat.example", &ipv6_upper) == "[::1]:5222");
}

TEST_CASE("route_upstream: a route not allowed or not readable is ignored, not refused") {
  const RoutingSettings s = settings();
  for (const std::string route : {"xmpp:evil.example:25", "xmpp:xmpp.internal:1", "xmpp:[::2]:5222",
                                  "xmpp://xmpp.internal:5299", "garbage", ""}) {
    CAPTURE(route);
    CHECK(host_for(s, "chat.example", &route) == "10.0.0.7:5223");  // the domain's upstream
    CHECK(host_for(s, "other.example", &route) == "default.internal:5222");
  }
}

TEST_CASE("route_upstream: the domain (any case), then the default, else none") {
  RoutingSettings s = settings();
  CHECK(host_for(s, "Chat.EXAMPLE", nullptr) == "10.0.0.7:5223");
  CHECK(host_for(s, "other.example", nullptr) == "default.internal:5222");
  s.default_upstream = {};
  CHECK(host_for(s, "other.example", nullptr) == "none");
  // Without allowed_routes a route is never honoured.
  s.allowed_routes.clear();
  const std::string route = "xmpp:xmpp.internal:5299";
  CHECK(host_for(s, "other.example", &route) == "none");
}
