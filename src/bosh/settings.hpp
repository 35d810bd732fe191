// EngineSettings: the knobs of the BOSH engine, filled from the daemon's Config by
// app/ (bosh/ never reads files). Times are in seconds as on the wire. Where
// sessions go (engine::RoutingSettings) is shared with the WebSocket transport.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

#include "engine/routing.hpp"

namespace sb::bosh {

// The routing fields (default_upstream, domains, allowed_routes) come from the base.
struct EngineSettings : engine::RoutingSettings {
  // Session parameters offered to clients.
  std::uint32_t max_wait = 120;     // a client's wait is capped to this
  std::uint32_t default_wait = 60;  // used when the client sends no wait
  std::uint32_t max_hold = 1;       // a client's hold is capped to this
  std::uint32_t inactivity = 60;
  std::uint32_t polling = 2;
  std::uint32_t maxpause = 120;

  // Bounds.
  std::size_t max_session_queue_bytes = 1 << 20;  // server bytes waiting for a request
  std::size_t max_sessions = 0;                   // 0 = unlimited
  std::size_t max_sessions_per_ip = 0;            // per client address; 0 = unlimited
  // Keep each session's client address even without a per-address cap (Session::
  // client_address(), for a PROXY header towards the server).
  bool track_peers = false;

  // Prepended to every sid so a worker (or an L7 router) can find the owner.
  std::string sid_prefix;
};

}  // namespace sb::bosh
