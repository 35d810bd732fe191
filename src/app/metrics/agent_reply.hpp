// The line the `agent_listen` listener writes to HAProxy's agent-check
// (agent_server.hpp): how much room this node has for new sessions, as a weight
// in percent of the server's configured weight ("73%\n").
//
// Only a weight, never the words "ready", "drain" or "maint": those set the
// server's administrative state in HAProxy, which is also the operator's
// (`set server b/s state drain`), and an agent's "ready" would cancel the
// operator's drain at its next check. A weight of 0 takes the node out of the
// balancing as "drain" would (HAProxy shows it as DRAIN) while requests routed
// to it by name (`use-server`, its sessions' requests) still reach it.
//
// Pure arithmetic on figures the caller reads from the MetricsBoard and the
// configuration, so tests give it known numbers.
#pragma once

#include <cstdint>
#include <string>

namespace sb::app {

struct AgentFigures {
  std::int64_t sessions = 0;       // both transports, all workers
  std::uint32_t max_sessions = 0;  // the node's cap; 0 = none
  std::int64_t open_fds = 0;       // summed over the workers
  std::int64_t max_fds = 0;        // their limits, summed; 0 = unknown
  bool drain = false;              // the operator's `drain = true`
};

// Free capacity in percent, 0..100: the smaller of the room left under
// max_sessions and under the descriptor limits. 0 only when the node is full or
// drained; a node with any room left says at least 1, so that HAProxy keeps it
// in the farm.
int agent_weight_percent(const AgentFigures& figures);

// The whole reply: "<percent>%\n".
std::string agent_reply(const AgentFigures& figures);

}  // namespace sb::app
