// trusted_proxies and the client address of a request: the rightmost untrusted
// address of X-Forwarded-For or Forwarded, believed only from a trusted peer.
#include <doctest/doctest.h>

#include "app/front/client_address.hpp"
#include "app/parse_trusted_proxies.hpp"

using sb::app::client_address;
using sb::app::forwarded_for_addresses;
using sb::app::TrustedProxies;

using sb::app::test::parse;

TEST_CASE("the client is the rightmost address that is not a trusted proxy") {
  const TrustedProxies trusted = parse("127.0.0.1 10.0.0.0/8");
  // Straight from nginx on loopback.
  CHECK(client_address("127.0.0.1", "198.51.100.4", "", trusted) == "198.51.100.4");
  // Through two trusted hops; what the client put in front is not believed.
  CHECK(client_address("127.0.0.1", "6.6.6.6, 198.51.100.4, 10.0.0.9", "", trusted) ==
        "198.51.100.4");
  // Every hop trusted: the leftmost is as far as we can see.
  CHECK(client_address("127.0.0.1", "10.0.0.8,10.0.0.9", "", trusted) == "10.0.0.8");
  // From an untrusted peer the header is ignored: a browser cannot pick its address.
  CHECK(client_address("198.51.100.4", "1.2.3.4", "", trusted) == "198.51.100.4");
  // Garbage stops the walk at the last trusted hop.
  CHECK(client_address("127.0.0.1", "1.2.3.4, garbage, 10.0.0.9", "", trusted) == "10.0.0.9");
  CHECK(client_address("127.0.0.1", "", "", trusted) == "127.0.0.1");
  // Ports, brackets and spellings are normalized.
  CHECK(client_address("127.0.0.1", "198.51.100.4:5555", "", trusted) == "198.51.100.4");
  CHECK(client_address("127.0.0.1", "[2001:DB8:0::1]:80", "", trusted) == "2001:db8::1");
  CHECK(client_address("127.0.0.1", "::ffff:198.51.100.4", "", trusted) == "198.51.100.4");
}

TEST_CASE("Forwarded (RFC 7239) when there is no X-Forwarded-For") {
  const TrustedProxies trusted = parse("127.0.0.1");
  CHECK(forwarded_for_addresses(
            "for=192.0.2.60;proto=http;by=203.0.113.43, For=\"[2001:db8:cafe::17]:4711\", "
            "for=unknown, proto=https") ==
        std::vector<std::string>{"192.0.2.60", "2001:db8:cafe::17", "", ""});
  CHECK(client_address("127.0.0.1", "", "for=192.0.2.60;proto=http", trusted) == "192.0.2.60");
  CHECK(client_address("127.0.0.1", "", "for=192.0.2.60, for=\"_hidden\"", trusted) == "127.0.0.1");
  // X-Forwarded-For wins when both are there.
  CHECK(client_address("127.0.0.1", "198.51.100.4", "for=192.0.2.60", trusted) == "198.51.100.4");
}
