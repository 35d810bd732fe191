// Condition: how a session ended, by its XEP-0124 §17 wire name.
#include <doctest/doctest.h>

#include "engine/condition.hpp"

using sb::engine::Condition;
using sb::engine::condition_from_name;
using sb::engine::condition_name;

TEST_CASE("conditions map to their wire names and back") {
  CHECK(condition_name(Condition::kItemNotFound) == "item-not-found");
  CHECK(condition_name(Condition::kRemoteStreamError) == "remote-stream-error");
  CHECK(condition_name(Condition::kNone).empty());
  CHECK(condition_from_name("policy-violation") == Condition::kPolicyViolation);
  CHECK_FALSE(condition_from_name("nonsense").has_value());
  // Every condition but kNone has a name that reads back as itself.
  for (auto i = static_cast<unsigned>(Condition::kBadRequest);
       i <= static_cast<unsigned>(Condition::kUndefinedCondition); ++i) {
    const auto condition = static_cast<Condition>(i);
    CAPTURE(i);
    CHECK(condition_from_name(condition_name(condition)) == condition);
  }
}
