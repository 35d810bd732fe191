// Collector: the parent's view of a run. It merges the once-a-second Intervals of
// every generator process (one, or the --procs children) into one timeline point
// per second, samples the --watch-pid processes at the same moment, prints the
// live progress line, and merges the processes' Finals at the end. The report
// (report.hpp) is written from what it holds.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "tools/soak/options.hpp"
#include "tools/soak/stats.hpp"

namespace sb::soak {

struct WatchSample {
  int pid = 0;
  bool alive = false;
  int processes = 0;
  std::uint64_t rss_bytes = 0;
  double cpu_seconds = 0;
  std::uint64_t open_fds = 0;
};

struct TimelinePoint {
  double t = 0;
  std::uint64_t sessions = 0;
  Tally tally;
  std::uint64_t p50_us = 0, p90_us = 0, p99_us = 0, max_us = 0;
  double loop_lag_ms = 0;
  std::vector<WatchSample> watched;
};

class ProcWatcher;

class Collector {
 public:
  Collector(const Options& options, unsigned procs);
  ~Collector();
  Collector(const Collector&) = delete;
  Collector& operator=(const Collector&) = delete;

  void add_interval(const Interval& interval);
  // A process has said its last word (its Final, or it died) after reporting
  // seconds up to `last_index`: later seconds no longer wait for it.
  void process_done(std::uint64_t last_index);
  void add_final(const Final& final_figures);
  // Emits every second still waiting (at the end).
  void flush();
  // Ends the progress line (a newline after the last \r).
  void end_progress();

  const std::vector<TimelinePoint>& timeline() const { return timeline_; }
  const Final& totals() const { return totals_; }
  unsigned finals() const { return finals_; }
  // Names of the watched processes (their comm), in --watch-pid order.
  const std::vector<std::string>& watched_names() const { return watched_names_; }

 private:
  struct Slot {
    unsigned reports = 0;
    Interval merged;
  };
  void emit(std::uint64_t index, Slot& slot);
  void emit_complete();
  unsigned expected(std::uint64_t index) const;
  void print_progress(const TimelinePoint& p);

  const Options& options_;
  unsigned procs_;
  std::vector<std::uint64_t> done_at_;  // last second of each process that is done
  std::map<std::uint64_t, Slot> slots_;
  std::vector<TimelinePoint> timeline_;
  Final totals_;
  unsigned finals_ = 0;
  ProcWatcher* watcher_ = nullptr;
  std::vector<std::string> watched_names_;
  bool tty_ = false;
  bool progress_open_ = false;
};

}  // namespace sb::soak
