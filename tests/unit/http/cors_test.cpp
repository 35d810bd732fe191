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
