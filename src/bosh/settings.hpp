// EngineSettings: the knobs of the BOSH engine, filled from the daemon's Config by
// app/ (bosh/ never reads files). Times are in seconds as on the wire. Where
// sessions go (engine::RoutingSettings) and how many there may be
// (engine::SessionCaps) are shared with the WebSocket transport: its bases.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

#include "engine/routing.hpp"
#include "engine/session_counts.hpp"

namespace sb::bosh {

// The routing fields (default_upstream, domains, allowed_routes) and the caps
// (max_sessions, max_sessions_per_ip, track_peers) come from the bases.
struct EngineSettings : engine::RoutingSettings, engine::SessionCaps {
  // Session parameters offered to clients.
  std::uint32_t max_wait = 120;     // a client's wait is capped to this
  std::uint32_t default_wait = 60;  // used when the client sends no wait
  std::uint32_t max_hold = 1;       // a client's hold is capped to this
  std::uint32_t inactivity = 60;
  std::uint32_t polling = 2;
  std::uint32_t maxpause = 120;

  // Bounds.
  std::size_t max_session_queue_bytes = 1 << 20;  // server bytes waiting for a request

  // Prepended to every sid so a worker (or an L7 router) can find the owner.
  std::string sid_prefix;
};

}  // namespace sb::bosh
