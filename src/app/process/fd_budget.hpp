// FdBudget: how many file descriptors a worker may spend on sessions, and how many
// worker processes `workers = auto` starts. Plain arithmetic plus two reads of the
// process's state (the fd limit, the descriptors open now), so the numbers can be
// unit-tested on their own.
//
// Why descriptors and not memory: a worker process may open at most RLIMIT_NOFILE
// files, and on many machines (ours: 20,000) that limit, not memory, decides how
// many sessions one process can hold. A session costs about two: the browser's
// connection and the upstream link. Some must stay free for what is not a session:
// logs, DNS lookups, sockets arriving by hand-over, a browser's second connection.
// So a worker keeps a reserve (2% of the limit, at least 64) and stops taking new
// sessions when its live descriptors reach `high` = limit - reserve; it takes them
// again once they fall below `low`, a little lower, so that a worker at the edge
// does not flap between the two states on every session.
#pragma once

#include <cstdint>
#include <string>

namespace sb::app {

struct FdBudget {
  std::uint64_t limit = 0;    // RLIMIT_NOFILE (the soft limit)
  std::uint64_t reserve = 0;  // kept free for what is not a session
  std::uint64_t high = 0;     // live fds at which new sessions stop
  std::uint64_t low = 0;      // live fds below which they start again

  // Sessions one worker can hold within the limit: two descriptors each.
  std::uint64_t sessions() const { return (limit - reserve) / 2; }
};

inline constexpr std::uint64_t kMinFdReserve = 64;
inline constexpr std::uint64_t kMinFdHysteresis = 16;

// The budget for a process limited to `limit` descriptors.
FdBudget fd_budget(std::uint64_t limit);

// RLIMIT_NOFILE's soft limit, after raising it to the hard limit (what systemd's
// LimitNOFILE or prlimit allow; raising needs no privilege).
std::uint64_t raise_fd_limit();

// What `workers` comes to. `configured` 0 means auto: one process per core, and
// with a `max_sessions` more if that many sessions do not fit into one process per
// core within `fd_limit` (at most 1024). `why` gets a sentence for the log.
struct WorkerChoice {
  std::uint32_t workers = 1;
  std::string why;
};
WorkerChoice choose_workers(std::uint32_t configured, std::uint32_t max_sessions,
                            std::uint64_t fd_limit, unsigned int cores);

// One worker's share of a daemon-wide `max_sessions` (0 = unlimited), rounded up.
std::uint32_t worker_max_sessions(std::uint32_t max_sessions, std::uint32_t workers);

}  // namespace sb::app
