#include <doctest/doctest.h>

#include <set>

#include "bosh/condition.hpp"
#include "bosh/endpoint.hpp"
#include "bosh/sid.hpp"

using namespace sb::bosh;

TEST_CASE("conditions map to their legacy HTTP codes") {
  CHECK(legacy_http_status(Condition::kBadRequest) == 400);
  CHECK(legacy_http_status(Condition::kPolicyViolation) == 403);
  CHECK(legacy_http_status(Condition::kItemNotFound) == 404);
  CHECK(legacy_http_status(Condition::kSystemShutdown) == 0);
}

TEST_CASE("sids: prefix plus 22 base64url characters, all different") {
  std::set<std::string> seen;
  for (int i = 0; i < 1000; ++i) {
    std::string sid = make_sid("w3.");
    REQUIRE(sid.size() == 3 + kSidRandomChars);
    CHECK(sid.rfind("w3.", 0) == 0);
    for (char c : sid.substr(3)) {
      CHECK((std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_'));
    }
    seen.insert(sid);
  }
  CHECK(seen.size() == 1000);
}

TEST_CASE("rid parsing: positive decimal up to 2^53-1") {
  CHECK(parse_rid("1") == 1u);
  CHECK(parse_rid("9007199254740991") == 9007199254740991ULL);
  CHECK_FALSE(parse_rid("9007199254740992").has_value());
  CHECK_FALSE(parse_rid("0").has_value());
  CHECK_FALSE(parse_rid("-1").has_value());
  CHECK_FALSE(parse_rid("12a").has_value());
  CHECK_FALSE(parse_rid("").has_value());
  CHECK_FALSE(parse_rid("99999999999999999999").has_value());
}

TEST_CASE("version negotiation compares major.minor as integers") {
  CHECK(negotiate_version("1.6", "1.11") == "1.6");
  CHECK(negotiate_version("1.12", "1.11") == "1.11");
  CHECK(negotiate_version("2.0", "1.11") == "1.11");
  CHECK(negotiate_version("x", "1.11").empty());
}
