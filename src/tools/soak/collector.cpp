// Collector: merging seconds across processes, the watched processes, and the
// progress line (rewritten in place with \r on a terminal, one line per second
// otherwise, so a CI log stays readable).
#include "tools/soak/collector.hpp"

#include <unistd.h>

#include <cstdio>

#ifdef SB_SOAK_HAVE_REPORT
#include "tools/soak/report/proc_watch.hpp"
#endif

namespace sb::soak {

// Adapter around the report library's ProcWatch, absent in builds without it.
class ProcWatcher {
 public:
  explicit ProcWatcher(const std::vector<int>& pids)
#ifdef SB_SOAK_HAVE_REPORT
      : watch_(pids)
#endif
  {
    pids_ = pids;
  }
  std::vector<WatchSample> sample(std::vector<std::string>& names) {
    std::vector<WatchSample> out;
#ifdef SB_SOAK_HAVE_REPORT
    const std::vector<ProcSample> samples = watch_.sample();
    for (const ProcSample& s : samples) {
      out.push_back({s.pid, s.alive, s.processes, s.rss_bytes, s.cpu_seconds, s.open_fds});
    }
    if (names.empty()) {
      for (const ProcSample& s : samples) names.push_back(s.name);
    }
#else
    for (int pid : pids_) out.push_back({pid, false, 0, 0, 0, 0});
    if (names.empty()) names.assign(pids_.size(), "");
#endif
    return out;
  }

 private:
#ifdef SB_SOAK_HAVE_REPORT
  ProcWatch watch_;
#endif
  std::vector<int> pids_;
};

Collector::Collector(const Options& options, unsigned procs) : options_(options), procs_(procs) {
  tty_ = isatty(STDOUT_FILENO) != 0;
  if (!options_.watch_pids.empty()) {
    watcher_ = new ProcWatcher(options_.watch_pids);
    watcher_->sample(watched_names_);
  }
}

Collector::~Collector() { delete watcher_; }

void Collector::add_interval(const Interval& iv) {
  Slot& slot = slots_[iv.index];
  ++slot.reports;
  Interval& m = slot.merged;
  m.index = iv.index;
  m.sessions += iv.sessions;
  if (iv.loop_lag_ms > m.loop_lag_ms) m.loop_lag_ms = iv.loop_lag_ms;
  m.tally.add(iv.tally);
  m.latency.merge(iv.latency);
  m.login.merge(iv.login);
  emit_complete();
}

// The processes that still report second `index`.
unsigned Collector::expected(std::uint64_t index) const {
  unsigned gone = 0;
  for (std::uint64_t last : done_at_) {
    if (last < index) ++gone;
  }
  return procs_ - gone;
}

// Seconds complete in order: each is emitted once every process that reports it has.
void Collector::emit_complete() {
  while (!slots_.empty() && slots_.begin()->second.reports >= expected(slots_.begin()->first)) {
    auto first = slots_.begin();
    emit(first->first, first->second);
    slots_.erase(first);
  }
}

void Collector::process_done(std::uint64_t last_index) {
  done_at_.push_back(last_index);
  emit_complete();
}

void Collector::flush() {
  for (auto& [index, slot] : slots_) emit(index, slot);
  slots_.clear();
}

void Collector::add_final(const Final& f) {
  totals_.merge(f);
  ++finals_;
}

void Collector::emit(std::uint64_t index, Slot& slot) {
  TimelinePoint p;
  p.t = static_cast<double>(index);
  p.sessions = slot.merged.sessions;
  p.tally = slot.merged.tally;
  p.p50_us = slot.merged.latency.quantile(0.50);
  p.p90_us = slot.merged.latency.quantile(0.90);
  p.p99_us = slot.merged.latency.quantile(0.99);
  p.max_us = slot.merged.latency.max();
  p.loop_lag_ms = slot.merged.loop_lag_ms;
  if (watcher_ != nullptr) p.watched = watcher_->sample(watched_names_);
  // A late second from a slow child could arrive after a newer one: keep order.
  timeline_.push_back(std::move(p));
  if (!options_.quiet) print_progress(timeline_.back());
}

void Collector::print_progress(const TimelinePoint& p) {
  std::uint64_t errors = 0;
  std::uint64_t refusals = 0;
  for (const TimelinePoint& q : timeline_) {
    errors += q.tally.errors;
    refusals += q.tally.login_refusals;
  }
  // Refused logins (refusal.hpp) only once there are some.
  char refused[48] = "";
  if (refusals > 0)
    std::snprintf(refused, sizeof refused, "  refused %llu",
                  static_cast<unsigned long long>(refusals));
  char line[300];
  std::snprintf(line, sizeof line,
                "[%5.0fs] sessions %llu/%llu  logins/s %llu  msg/s %llu  p50 %.1f ms  p99 %.1f ms  "
                "errors %llu%s%s",
                p.t, static_cast<unsigned long long>(p.sessions),
                static_cast<unsigned long long>(options_.sessions),
                static_cast<unsigned long long>(p.tally.logins),
                static_cast<unsigned long long>(p.tally.messages_received),
                static_cast<double>(p.p50_us) / 1000.0, static_cast<double>(p.p99_us) / 1000.0,
                static_cast<unsigned long long>(errors), refused,
                p.loop_lag_ms > options_.max_lag_ms ? "  (generator lagging)" : "");
  if (tty_) {
    std::printf("\r%s\033[K", line);
    progress_open_ = true;
  } else {
    std::printf("%s\n", line);
  }
  std::fflush(stdout);
}

void Collector::end_progress() {
  if (progress_open_) std::printf("\n");
  progress_open_ = false;
}

}  // namespace sb::soak
