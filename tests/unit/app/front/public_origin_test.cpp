// The scheme and host the client used (host-meta's URLs): the TLS listener says
// https by itself; a trusted proxy's X-Forwarded-Proto / X-Forwarded-Host or
// Forwarded proto= / host= are believed, an untrusted peer's never.
#include <doctest/doctest.h>

#include "app/front/public_origin.hpp"
#include "app/parse_trusted_proxies.hpp"

using sb::app::public_origin;
using sb::app::TrustedProxies;

using sb::app::test::parse;

TEST_CASE("public origin: the TLS listener is https, the plain one http, without proxies") {
  CHECK(public_origin(true, "192.0.2.1", "", "", "", nullptr).secure);
  CHECK_FALSE(public_origin(false, "192.0.2.1", "", "", "", nullptr).secure);
  CHECK(public_origin(true, "192.0.2.1", "", "", "", nullptr).host.empty());
}

TEST_CASE("public origin: an untrusted peer's forwarding headers are ignored") {
  const TrustedProxies trusted = parse("10.0.0.0/8");
  for (bool tls : {false, true}) {
    const auto origin = public_origin(tls, "192.0.2.7", tls ? "http" : "https", "evil.example",
                                      "proto=https;host=evil.example", &trusted);
    CHECK(origin.secure == tls);
    CHECK(origin.host.empty());
  }
  // No trusted_proxies at all: the same.
  const auto none = public_origin(false, "10.0.0.1", "https", "chat.example", "", nullptr);
  CHECK_FALSE(none.secure);
  CHECK(none.host.empty());
}

TEST_CASE("public origin: a trusted proxy's X-Forwarded-Proto and X-Forwarded-Host") {
  const TrustedProxies trusted = parse("10.0.0.0/8 ::1");
  auto origin = public_origin(false, "10.1.2.3", "https", "chat.example.com", "", &trusted);
  CHECK(origin.secure);
  CHECK(origin.host == "chat.example.com");
  CHECK(public_origin(false, "::1", "HTTPS", "", "", &trusted).secure);
  // It may also say plain http for a connection that came to us over TLS.
  CHECK_FALSE(public_origin(true, "10.1.2.3", "http", "", "", &trusted).secure);
  // A list: the last entry is the one the proxy next to us wrote.
  origin = public_origin(false, "10.1.2.3", "http, https", "client-said.example, chat.example:8443",
                         "", &trusted);
  CHECK(origin.secure);
  CHECK(origin.host == "chat.example:8443");
  CHECK_FALSE(public_origin(false, "10.1.2.3", "https, http", "", "", &trusted).secure);
  // A host that is not a plain host[:port] is not taken, nor an unknown scheme.
  origin = public_origin(false, "10.1.2.3", "gopher", "x'/><y", "", &trusted);
  CHECK_FALSE(origin.secure);
  CHECK(origin.host.empty());
  // X-Forwarded-* win over Forwarded when both are sent.
  origin = public_origin(false, "10.1.2.3", "http", "", "proto=https;host=other.example", &trusted);
  CHECK_FALSE(origin.secure);
  CHECK(origin.host.empty());
}

TEST_CASE("public origin: Forwarded proto= and host=, walked as far as the proxies are trusted") {
  const TrustedProxies trusted = parse("10.0.0.0/8");
  auto origin = public_origin(false, "10.0.0.1", "", "",
                              "for=192.0.2.9;proto=https;host=\"chat.example\"", &trusted);
  CHECK(origin.secure);
  CHECK(origin.host == "chat.example");
  CHECK(public_origin(false, "10.0.0.1", "", "", "For=192.0.2.9;Proto=HTTPS", &trusted).secure);
  // Two trusted hops: the outer one (which the client spoke to) ended TLS, the
  // inner one received plain http from it.
  origin = public_origin(false, "10.0.0.1", "", "",
                         "for=192.0.2.9;proto=https;host=chat.example, for=10.0.0.2;proto=http",
                         &trusted);
  CHECK(origin.secure);
  CHECK(origin.host == "chat.example");
  // The element before an untrusted hop was written by the client: ignored.
  origin = public_origin(false, "10.0.0.1", "", "",
                         "for=10.9.9.9;proto=https;host=forged.example, for=192.0.2.9;proto=http",
                         &trusted);
  CHECK_FALSE(origin.secure);
  CHECK(origin.host.empty());
  // A bad host= is skipped, the scheme still counts.
  origin =
      public_origin(false, "10.0.0.1", "", "", "for=192.0.2.9;proto=https;host=\"a b\"", &trusted);
  CHECK(origin.secure);
  CHECK(origin.host.empty());
}
