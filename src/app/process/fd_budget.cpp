// The fd budget and the choice of the worker count; see fd_budget.hpp.
#include "app/process/fd_budget.hpp"

#include <sys/resource.h>

#include <algorithm>

namespace sb::app {

namespace {
constexpr std::uint32_t kMaxWorkers = 1024;  // the config key's own upper bound
}  // namespace

FdBudget fd_budget(std::uint64_t limit) {
  FdBudget budget;
  budget.limit = limit;
  // 2%, at least 64, but never more than half of a tiny limit.
  budget.reserve = std::min(std::max(kMinFdReserve, limit / 50), limit / 2);
  budget.high = limit - budget.reserve;
  const std::uint64_t hysteresis = std::max(kMinFdHysteresis, limit / 100);
  budget.low = budget.high > hysteresis ? budget.high - hysteresis : 0;
  return budget;
}

std::uint64_t raise_fd_limit() {
  rlimit limit{};
  if (getrlimit(RLIMIT_NOFILE, &limit) != 0) return 1024;  // the usual default
  if (limit.rlim_cur < limit.rlim_max) {
    rlimit raised = limit;
    raised.rlim_cur = limit.rlim_max;
    if (setrlimit(RLIMIT_NOFILE, &raised) == 0) limit = raised;
  }
  return limit.rlim_cur == RLIM_INFINITY ? std::uint64_t{1} << 20 : limit.rlim_cur;
}

WorkerChoice choose_workers(std::uint32_t configured, std::uint32_t max_sessions,
                            std::uint64_t fd_limit, unsigned int cores) {
  WorkerChoice choice;
  if (configured != 0) {
    choice.workers = configured;
    choice.why = "as configured";
    return choice;
  }
  const std::uint32_t per_core = std::clamp<std::uint32_t>(cores, 1, kMaxWorkers);
  if (max_sessions == 0) {
    choice.workers = per_core;
    choice.why = "auto: one per core (" + std::to_string(per_core) + "), max_sessions unlimited";
    return choice;
  }
  const FdBudget budget = fd_budget(fd_limit);
  const std::uint64_t per_worker = std::max<std::uint64_t>(budget.sessions(), 1);
  const std::uint64_t needed = (max_sessions + per_worker - 1) / per_worker;
  choice.workers = static_cast<std::uint32_t>(
      std::min<std::uint64_t>(std::max<std::uint64_t>(needed, per_core), kMaxWorkers));
  choice.why = "auto: max_sessions " + std::to_string(max_sessions) + " at " +
               std::to_string(per_worker) + " sessions per worker (fd limit " +
               std::to_string(fd_limit) + ", reserve " + std::to_string(budget.reserve) +
               ") needs " + std::to_string(needed) + ", " + std::to_string(per_core) +
               (per_core == 1 ? " core" : " cores");
  if (needed > kMaxWorkers) {
    choice.why += "; capped at " + std::to_string(kMaxWorkers) +
                  " workers, which hold fewer: raise the fd limit";
  }
  return choice;
}

std::uint32_t worker_max_sessions(std::uint32_t max_sessions, std::uint32_t workers) {
  if (max_sessions == 0 || workers <= 1) return max_sessions;
  return static_cast<std::uint32_t>((std::uint64_t{max_sessions} + workers - 1) / workers);
}

}  // namespace sb::app
