// The supervisor's bookkeeping per worker: a Slot per worker index (its restart
// policy, hang watch and the configuration it runs) and an Incarnation per
// process of a slot (the process and its IPC pipe). Internal to the supervisor's
// files (supervisor.cpp, supervisor_reload.cpp).
#pragma once

#include <uv.h>

#include <cstdint>

#include "app/process/supervisor.hpp"

namespace sb::app {

// One worker index: its current process (if any) and its restart policy.
struct Supervisor::Slot {
  Supervisor* owner = nullptr;
  std::uint32_t index = 0;
  Incarnation* current = nullptr;  // null while the worker is down
  uv_timer_t restart_timer{};
  uv_timer_t hang_timer{};        // runs while the worker is up and the watch is on
  std::uint64_t hang_due_ms = 0;  // when hang_timer should fire (loop time)
  // The worker_hang_timeout of the configuration its process runs: it beats at
  // that rate until it has applied a reload.
  std::uint32_t hang_timeout_s = 0;
  std::uint64_t backoff_ms = kFirstBackoffMs;
  std::uint64_t started_ms = 0;
  bool listening = false;        // its process said so: it handles SIGUSR1 now
  std::uint64_t generation = 0;  // the configuration its process runs
  // An upgrade in place: the channel to the old daemon's worker of this index,
  // for this slot's first process (then closed), and whether that process has
  // yet to say it took over.
  int upgrade_fd = -1;
  bool taking_over = false;
};

// One process of a slot with its IPC pipe. Both handles are closed when the
// process has exited (or failed to start); the object is freed after the second
// close callback.
struct Supervisor::Incarnation {
  Slot* slot = nullptr;
  uv_process_t process{};
  uv_pipe_t pipe{};
  int pid = 0;
  int open_handles = 0;
  bool hung = false;  // we killed it for its silence
};

}  // namespace sb::app
