// The figures one generator process collects, and how they travel.
//
// Tally holds additive counters (logins, messages, errors by kind, ...): an
// interval's Tally is the change in that second, the run's Tally their sum.
// Interval is one second of one process (its Tally, its latency histograms, the
// gauge of sessions held, its loop lag); Final is what a process says at the end
// (totals that are not sums of intervals: lost messages, memory per session).
// Both serialize to one text line, which is how --procs children report to the
// parent over a pipe; the parent merges them with the same add/merge functions a
// single process uses.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <string_view>

#include "tools/soak/histogram.hpp"

namespace sb::soak {

struct Tally {
  std::uint64_t logins = 0;          // sessions that completed the login
  std::uint64_t login_attempts = 0;  // session requests sent
  std::uint64_t sessions_ended = 0;  // ended before the run's end, not by us
  std::uint64_t messages_sent = 0;
  std::uint64_t messages_received = 0;  // first copies only
  std::uint64_t messages_duplicated = 0;
  std::uint64_t messages_reordered = 0;
  std::uint64_t messages_reordered_by_client = 0;  // overtaken by the client's own answer order
  std::uint64_t messages_cut_off = 0;  // in flight to or from a session --drop ended (WebSocket)
  std::uint64_t requests =
      0;                    // HTTP requests (BOSH, resends included) or frames (WebSocket) written
  std::uint64_t drops = 0;  // connections cut by --drop
  std::uint64_t resends = 0;         // requests sent again with the same rid
  std::uint64_t connections = 0;     // TCP connections opened
  std::uint64_t login_refusals = 0;  // 5xx answers to a session creation or upgrade (refusal.hpp)
  std::uint64_t logins_refused = 0;  // logins refused at least once
  std::uint64_t logins_refused_then_in = 0;  // of those, logged in after all
  std::uint64_t logins_refused_gave_up =
      0;  // of those, given up as the client would (an error too)
  std::uint64_t errors = 0;
  std::map<std::string, std::uint64_t> errors_by_kind;

  void error(std::string_view kind);
  void add(const Tally& other);
  std::string serialize() const;
  bool deserialize(std::string_view text);
};

struct Interval {
  std::uint64_t index = 0;     // second number since the start, from 1
  std::uint64_t sessions = 0;  // online at the end of the interval
  double loop_lag_ms = 0;      // the largest lateness of the loop's tick
  Tally tally;
  Histogram latency;  // message latency, us
  Histogram login;    // login latency, us

  std::string serialize() const;
  bool deserialize(std::string_view line);
};

struct Final {
  std::uint64_t sessions_target = 0;
  std::uint64_t sessions_established = 0;
  std::uint64_t messages_lost = 0;
  std::uint64_t rss_baseline = 0;  // before the first session
  std::uint64_t rss_loaded = 0;    // with every session up
  std::uint64_t fds_baseline = 0;  // open sockets
  std::uint64_t fds_loaded = 0;
  std::uint64_t sessions_loaded = 0;  // online when rss_loaded was taken
  double cpu_seconds = 0;
  double max_loop_lag_ms = 0;
  std::uint64_t lagging_intervals = 0;  // intervals with lag above --max-lag
  std::uint64_t intervals = 0;
  std::string source;  // the source range used, "" for none
  Tally tally;         // the whole run
  Histogram latency;
  Histogram login;

  void merge(const Final& other);
  std::string serialize() const;
  bool deserialize(std::string_view line);
};

// RSS and open sockets of this process, from /proc/self.
std::uint64_t self_rss_bytes();
std::uint64_t self_open_sockets();
double self_cpu_seconds();

}  // namespace sb::soak
