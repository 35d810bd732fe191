// Serving /metrics; see metrics_server.hpp.
#include "app/metrics/metrics_server.hpp"

#include <unistd.h>

#include "app/metrics/process_stats.hpp"

namespace sb::app {

MetricsServer::MetricsServer(uv_loop_t* loop, base::TimerWheel& wheel, const MetricsBoard& board,
                             const http::ConnectionLimits& limits, FiguresFn figures,
                             bool serving_is_worker)
    : board_(board),
      figures_(std::move(figures)),
      serving_is_worker_(serving_is_worker),
      limits_(limits),
      router_(cors_),
      shared_{router_, limits_, cors_, wheel, sockets_},
      listener_(loop, [this](net::TcpStream& stream) { HttpSocket::adopt(stream, shared_); }) {
  router_.add("/metrics", {http::Method::kGet, http::Method::kHead}, *this);
  if (const auto self = sample_process(static_cast<int>(getpid()))) {
    start_time_ = self->start_time_seconds;
  }
}

int MetricsServer::listen(const std::string& address, std::string& error) {
  return listener_.listen(address, 128, error);
}

void MetricsServer::close() {
  listener_.close();
  sockets_.close_all();
}

std::string MetricsServer::render() const {
  const MetricsTotals totals = board_.totals();
  ProcessTotals process;
  process.start_time_seconds = start_time_;
  process.open_fds = totals.open_fds;
  process.max_fds = totals.max_fds;
  const int self = static_cast<int>(getpid());
  for (std::uint32_t i = 0; i < board_.workers(); ++i) {
    const auto pid = static_cast<int>(board_.slot(i).pid.load(std::memory_order_relaxed));
    if (pid <= 0 || pid == self) continue;
    if (const auto sample = sample_process(pid)) {
      process.cpu_seconds += sample->cpu_seconds;
      process.resident_bytes += sample->resident_bytes;
    }
  }
  if (const auto sample = sample_process(self)) {
    process.cpu_seconds += sample->cpu_seconds;
    process.resident_bytes += sample->resident_bytes;
  }
  if (!serving_is_worker_) {  // the supervisor: a handful of descriptors, listed
    process.open_fds += static_cast<std::int64_t>(count_open_fds());
    process.max_fds += static_cast<std::int64_t>(max_fds());
  }
  return render_metrics(totals, process, figures_ ? figures_() : DaemonFigures{});
}

void MetricsServer::handle(http::Request&, http::Exchange& exchange) {
  exchange.send(http::Response::text(200, std::string(kMetricsContentType), render()));
}

}  // namespace sb::app
