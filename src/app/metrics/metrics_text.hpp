// The Prometheus text exposition format (version 0.0.4) of the daemon's metrics:
// what GET /metrics answers (metrics_server.hpp). docs/metrics.md lists every
// metric this writes; keep the two in step.
//
// Pure formatting: the caller gathers the sums of the MetricsBoard, the process
// figures and the supervisor's own counters, so tests render known numbers.
#pragma once

#include <cstdint>
#include <string>

#include "app/metrics/metrics_board.hpp"

namespace sb::app {

inline constexpr std::string_view kMetricsContentType = "text/plain; version=0.0.4; charset=utf-8";

struct ProcessTotals {
  double cpu_seconds = 0;
  std::uint64_t resident_bytes = 0;
  std::int64_t open_fds = 0;
  std::int64_t max_fds = 0;
  double start_time_seconds = 0;
};

struct DaemonFigures {
  std::uint32_t workers_configured = 1;
  std::uint32_t workers_running = 1;
  // Worker processes started again after they exited or died unasked, and after
  // the supervisor killed them for missing their heartbeats.
  std::uint64_t worker_restarts_exited = 0;
  std::uint64_t worker_restarts_hung = 0;
  std::uint64_t handovers_relayed = 0;  // by the supervisor
  std::uint64_t handovers_dropped = 0;
  std::uint64_t handovers_refused = 0;   // of the dropped: answered 503 (owner or relay full)
  std::uint64_t handovers_lost = 0;      // a frame without its socket, or the reverse
  std::uint64_t relay_held_sockets = 0;  // sockets the supervisor holds right now
};

std::string render_metrics(const MetricsTotals& totals, const ProcessTotals& process,
                           const DaemonFigures& daemon);

}  // namespace sb::app
