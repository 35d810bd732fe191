// WebSocket close status codes (RFC 6455 §7.4) that Switchboard sends or checks.
#pragma once

#include <cstdint>

namespace sb::ws {

enum class CloseCode : std::uint16_t {
  kNone = 0,  // no code in the close frame (RFC 6455 §7.1.5: 1005)
  kNormal = 1000,
  kGoingAway = 1001,  // the server shuts down
  kProtocolError = 1002,
  kUnsupportedData = 1003,  // a binary frame: RFC 7395 §3.2 allows text only
  kInvalidPayload = 1007,   // text that is not UTF-8
  kPolicyViolation = 1008,
  kMessageTooBig = 1009,
  kInternalError = 1011,
};

// Whether a code received in a close frame may be there (RFC 6455 §7.4.1-7.4.2 and
// the IANA registry: 1000-1003, 1007-1014, and 3000-4999 for libraries and
// applications). 1004, 1005, 1006 and 1015 must never be sent.
constexpr bool valid_received_close_code(std::uint16_t code) {
  return (code >= 1000 && code <= 1003) || (code >= 1007 && code <= 1014) ||
         (code >= 3000 && code <= 4999);
}

}  // namespace sb::ws
