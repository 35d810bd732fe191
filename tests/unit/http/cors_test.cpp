// CorsPolicy's decisions and its report of refused origins (http/cors.hpp).
#include <doctest/doctest.h>

#include <string>
#include <vector>

#include "http/cors.hpp"

using sb::http::CorsPolicy;

TEST_CASE("any origin, a list, or none") {
  CHECK(CorsPolicy({"*"}).match("https://page.example") == CorsPolicy::kAny);
  CHECK(CorsPolicy({"*"}).match("") == CorsPolicy::kNone);  // no Origin: no CORS headers
  const CorsPolicy list({"https://a.example", "https://b.example"});
  CHECK(list.match("https://b.example") == CorsPolicy::kFirstOrigin + 1);
  CHECK(list.match("https://c.example") == CorsPolicy::kNone);
  CHECK(CorsPolicy().match("https://a.example") == CorsPolicy::kNone);
}

TEST_CASE("a refused origin is reported once, an allowed one never") {
  CorsPolicy policy({"https://chat.example"});
  std::vector<std::string> reported;
  policy.set_refusal_hook([&](std::string_view origin) { reported.emplace_back(origin); });
  for (int i = 0; i < 3; ++i) {
    CHECK_FALSE(policy.allows("https://evil.example"));
    CHECK(policy.allows("https://chat.example"));
    CHECK_FALSE(policy.allows(""));
  }
  CHECK_FALSE(policy.allows("https://other.example"));
  CHECK(reported == std::vector<std::string>{"https://evil.example", "https://other.example"});
}

TEST_CASE("the memory of reported origins is bounded") {
  CorsPolicy policy({"https://chat.example"});
  std::size_t calls = 0;
  policy.set_refusal_hook([&](std::string_view) { ++calls; });
  for (std::size_t i = 0; i < CorsPolicy::kMaxReportedOrigins + 100; ++i) {
    CHECK_FALSE(policy.allows("https://x" + std::to_string(i) + ".example"));
  }
  CHECK(calls == CorsPolicy::kMaxReportedOrigins);
  CHECK_FALSE(policy.allows("https://x0.example"));  // still refused, just not reported again
  CHECK(calls == CorsPolicy::kMaxReportedOrigins);
}

TEST_CASE("a preflight from a refused origin is 403 and is reported") {
  CorsPolicy policy({"https://chat.example"});
  int calls = 0;
  policy.set_refusal_hook([&](std::string_view) { ++calls; });
  sb::http::Request request;
  request.origin = "https://evil.example";
  CHECK(policy.preflight(request, "POST").status == 403);
  request.origin = "https://chat.example";
  CHECK(policy.preflight(request, "POST").status == 200);
  CHECK(calls == 1);
}

TEST_CASE("set_origins: new requests see the new list, held answers keep their origin") {
  CorsPolicy policy({"https://a.example", "https://b.example"});
  std::vector<std::string> reported;
  policy.set_refusal_hook([&](std::string_view origin) { reported.emplace_back(origin); });
  const CorsPolicy::Match held_b = policy.match("https://b.example");  // admitted before
  CHECK_FALSE(policy.allows("https://c.example"));

  policy.set_origins({"https://c.example", "https://a.example"});
  CHECK(policy.allows("https://c.example"));
  CHECK(policy.allows("https://a.example"));
  CHECK_FALSE(policy.allows("https://b.example"));
  // The answer to the request admitted before still names its origin.
  std::string head;
  policy.append_headers(held_b, head);
  CHECK(head == "Access-Control-Allow-Origin: https://b.example\r\nVary: Origin\r\n");
  // a.example kept its entry; c.example got a new one; b.example is reported
  // (refusals are reported afresh after a change).
  CHECK(policy.match("https://a.example") == CorsPolicy::kFirstOrigin);
  CHECK(policy.match("https://c.example") == CorsPolicy::kFirstOrigin + 2);
  CHECK(reported == std::vector<std::string>{"https://c.example", "https://b.example"});

  // Put back, b.example takes its old entry; "*" allows any; an empty list none.
  policy.set_origins({"https://b.example"});
  CHECK(policy.match("https://b.example") == held_b);
  policy.set_origins({"*"});
  CHECK(policy.match("https://z.example") == CorsPolicy::kAny);
  policy.set_origins({});
  CHECK_FALSE(policy.allows("https://a.example"));
  CHECK_FALSE(policy.allows("https://z.example"));
}
