// The agent-check line; see agent_reply.hpp.
#include "app/metrics/agent_reply.hpp"

#include <algorithm>

namespace sb::app {

int agent_weight_percent(const AgentFigures& figures) {
  if (figures.drain) return 0;
  // Room as a fraction in thousandths, so that rounding down to whole percent
  // below cannot turn a little room into none.
  std::int64_t room = 1000;
  if (figures.max_sessions > 0) {
    const std::int64_t cap = figures.max_sessions;
    const std::int64_t held = std::max<std::int64_t>(figures.sessions, 0);
    if (held >= cap) return 0;
    room = std::min(room, (cap - held) * 1000 / cap);
  }
  if (figures.max_fds > 0) {
    // Each session holds two descriptors (client and server side); a worker
    // stops taking sessions a little before its limit (fd_budget.hpp), which the
    // worker's own admission handles: here the figure only steers the balance.
    const std::int64_t free_fds = std::max<std::int64_t>(figures.max_fds - figures.open_fds, 0);
    if (free_fds == 0) return 0;
    room = std::min(room, free_fds * 1000 / figures.max_fds);
  }
  return static_cast<int>(std::max<std::int64_t>(room / 10, 1));
}

std::string agent_reply(const AgentFigures& figures) {
  return std::to_string(agent_weight_percent(figures)) + "%\n";
}

}  // namespace sb::app
