// Condition: how a session ended, as the client was told, named as XEP-0124 §17
// names its terminal binding conditions. A BOSH session ends with one of them on
// the wire; both transports report their sessions' ends with one (EngineEvents),
// and the metrics count by it (a WebSocket session, told in RFC 7395 terms, reports
// kNone).
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>

namespace sb::engine {

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

}  // namespace sb::engine
