// The terminal binding conditions of XEP-0124 §17 (and the recoverable "error"
// type), as an enum with their wire names.
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>

namespace sb::bosh {

enum class Condition : std::uint8_t {
  kNone,  // a clean end: <body type='terminate'/> without a condition
  kBadRequest,
  kHostGone,
  kHostUnknown,
  kImproperAddressing,
  kInternalServerError,
  kItemNotFound,
  kOtherRequest,
  kPolicyViolation,
  kRemoteConnectionFailed,
  kRemoteStreamError,
  kSeeOtherUri,
  kSystemShutdown,
  kUndefinedCondition,
};

// The value of the condition attribute ("item-not-found"); empty for kNone.
std::string_view condition_name(Condition condition);
std::optional<Condition> condition_from_name(std::string_view name);
// The HTTP status a legacy client (no 'ver' on creation) gets instead: 400, 403,
// 404, or 0 where XEP-0124 gives no legacy code.
int legacy_http_status(Condition condition);

}  // namespace sb::bosh
