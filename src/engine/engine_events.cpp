// Label words of EngineEvents' enums; see engine_events.hpp.
#include "engine/engine_events.hpp"

namespace sb::engine {

std::string_view refusal_label(Refusal refusal) {
  switch (refusal) {
    case Refusal::kBadBody: return "bad_body";
    case Refusal::kBadRid: return "bad_rid";
    case Refusal::kUnknownSid: return "unknown_sid";
    case Refusal::kShuttingDown: return "shutting_down";
    case Refusal::kMissingTo: return "missing_to";
    case Refusal::kHostUnknown: return "host_unknown";
    case Refusal::kNoRoom: return "no_room";
    case Refusal::kMaxSessions: return "max_sessions";
    case Refusal::kPerAddressCap: return "max_sessions_per_ip";
    case Refusal::kWsHandshake: return "websocket_handshake";
    case Refusal::kWsOpen: return "websocket_open";
    case Refusal::kOverload: return "overload";
    case Refusal::kCount_: break;
  }
  return "other";
}

std::string_view request_kind_label(RequestKind kind) {
  switch (kind) {
    case RequestKind::kCreate: return "create";
    case RequestKind::kPayload: return "payload";
    case RequestKind::kEmpty: return "empty";
    case RequestKind::kRestart: return "restart";
    case RequestKind::kTerminate: return "terminate";
    case RequestKind::kPause: return "pause";
    case RequestKind::kCount_: break;
  }
  return "other";
}

}  // namespace sb::engine
