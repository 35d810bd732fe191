// EngineEvents: what the engine of either transport tells the outside world about
// sessions, requests and refused requests, so app/ can log and count them (the log,
// the Prometheus metrics) without bosh/ or the WebSocket glue knowing about either.
// BOSH reports through SessionTable (a null pointer until the owner sets one), the
// WebSocket endpoint and sockets (app/front) through their shared state.
//
// Refusals and requests come with a small enum as well as words: the enum is what
// metrics count by (a label with a handful of values), the words are for people.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>

#include "engine/condition.hpp"

namespace sb::engine {

// Why a request was answered with an error before any session took it.
enum class Refusal : std::uint8_t {
  kBadBody,        // not XML, not a BOSH <body/>
  kBadRid,         // missing or invalid rid
  kUnknownSid,     // no such session (here or at another worker)
  kShuttingDown,   // a creation while the daemon stops
  kMissingTo,      // a creation without 'to'
  kHostUnknown,    // a creation for a domain with no upstream
  kNoRoom,         // a creation this worker has no descriptors for (503)
  kMaxSessions,    // a creation over max_sessions (503)
  kPerAddressCap,  // a creation over max_sessions_per_ip
  kWsHandshake,    // a WebSocket upgrade request that is not a valid handshake
  kWsOpen,         // a WebSocket connection whose first message got no stream
  kOverload,       // a creation or upgrade beyond the logins this worker can finish in time (503)
  kCount_,
};
std::string_view refusal_label(Refusal refusal);  // "bad_body", ... for a metric label

// What a BOSH request that reached a session (or created one) asked for. (A
// WebSocket connection has no requests: its messages are counted by the front.)
enum class RequestKind : std::uint8_t {
  kCreate,
  kPayload,    // carries stanzas
  kEmpty,      // a poll or a held empty request
  kRestart,    // xmpp:restart='true'
  kTerminate,  // type='terminate'
  kPause,      // pause='N'
  kCount_,
};
std::string_view request_kind_label(RequestKind kind);  // "create", "payload", ...

class EngineEvents {
 public:
  virtual void session_created(std::string_view sid, std::string_view peer,
                               std::string_view to) = 0;
  // `condition` is what the client was told (kNone for a clean end or a silent one);
  // `reason` says why in a few words ("inactivity", "client terminate", ...).
  virtual void session_ended(std::string_view sid, Condition condition,
                             std::string_view reason) = 0;
  // A request answered with an error where no session could be named or created.
  virtual void request_refused(std::string_view peer, Refusal refusal, std::string_view reason) = 0;
  // A request with a valid rid for a live session, or a creation that passed the
  // checks; `stanzas` is how many top-level elements it carries for the server.
  virtual void request_received(RequestKind /*kind*/, std::size_t /*stanzas*/) {}
  // A session creation that waited its turn (LoginGate::kQueue) `millis` before it
  // started, or was refused at last (`started` false).
  virtual void creation_waited(std::uint64_t /*millis*/, bool /*started*/) {}

 protected:
  ~EngineEvents() = default;
};

}  // namespace sb::engine
