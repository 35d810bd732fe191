// ProcWatch: the resident memory and CPU time of processes named with
// `switchboard-soak --watch-pid PID`, each summed over the process and all of its
// descendants (a supervisor and its workers, ejabberd's beam.smp and its children).
// Read from /proc; a process that has gone is reported with alive = false.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace sb::soak {

struct ProcSample {
  int pid = 0;       // the watched pid
  std::string name;  // its comm ("switchboard", "beam.smp", "lua5.4")
  bool alive = false;
  int processes = 0;            // the pid and its live descendants
  std::uint64_t rss_bytes = 0;  // summed VmRSS
  double cpu_seconds = 0;       // summed utime + stime since each process started
  std::uint64_t open_fds = 0;   // summed entries of /proc/P/fd (0 where unreadable)
};

class ProcWatch {
 public:
  explicit ProcWatch(std::vector<int> pids);
  // One sample of every watched pid, in the order given. Cost: one pass over /proc.
  std::vector<ProcSample> sample() const;
  const std::vector<int>& pids() const { return pids_; }

 private:
  std::vector<int> pids_;
};

}  // namespace sb::soak
