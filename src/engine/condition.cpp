// The wire names of the conditions; see condition.hpp.
#include "engine/condition.hpp"

#include <array>
#include <utility>

namespace sb::engine {
namespace {
constexpr std::array<std::pair<Condition, std::string_view>, 13> kNames{{
    {Condition::kBadRequest, "bad-request"},
    {Condition::kHostGone, "host-gone"},
    {Condition::kHostUnknown, "host-unknown"},
    {Condition::kImproperAddressing, "improper-addressing"},
    {Condition::kInternalServerError, "internal-server-error"},
    {Condition::kItemNotFound, "item-not-found"},
    {Condition::kOtherRequest, "other-request"},
    {Condition::kPolicyViolation, "policy-violation"},
    {Condition::kRemoteConnectionFailed, "remote-connection-failed"},
    {Condition::kRemoteStreamError, "remote-stream-error"},
    {Condition::kSeeOtherUri, "see-other-uri"},
    {Condition::kSystemShutdown, "system-shutdown"},
    {Condition::kUndefinedCondition, "undefined-condition"},
}};
}  // namespace

std::string_view condition_name(Condition condition) {
  for (const auto& [c, name] : kNames) {
    if (c == condition) return name;
  }
  return {};
}

std::optional<Condition> condition_from_name(std::string_view name) {
  for (const auto& [c, n] : kNames) {
    if (n == name) return c;
  }
  return std::nullopt;
}

}  // namespace sb::engine
