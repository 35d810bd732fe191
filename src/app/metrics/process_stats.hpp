// ProcessStats: what the standard process_* metrics need, read from /proc.
//
// CPU time and resident memory come from /proc/PID/stat (one small read per
// process per scrape); the start time from its starttime field and the boot time
// in /proc/stat. Open descriptors are NOT listed from /proc/PID/fd for workers:
// listing a directory of 19,000 descriptors costs time and about 1 KB of kernel
// memory per entry (proc inodes and dentries) on every scrape. Workers count their
// own (MetricsSlot::open_fds, the same count their admission control uses).
#pragma once

#include <cstdint>
#include <optional>

namespace sb::app {

struct ProcessSample {
  double cpu_seconds = 0;  // user + system
  std::uint64_t resident_bytes = 0;
  double start_time_seconds = 0;  // since the Unix epoch
};

// nullopt if the process is gone or /proc cannot be read.
std::optional<ProcessSample> sample_process(int pid);
// RLIMIT_NOFILE's soft limit of this process.
std::uint64_t max_fds();
// The descriptors this process has open now (counts /proc/self/fd; call it at
// start or per scrape, not per request).
std::uint64_t count_open_fds();

}  // namespace sb::app
