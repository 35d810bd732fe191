// MetricsServer: the `metrics_listen` listener, answering GET /metrics with the
// whole daemon's metrics in the Prometheus text format (metrics_text.hpp).
//
// One process serves it: the supervisor when there are several workers, the one
// worker otherwise. Either way the numbers are the sums over every worker's slot
// of the MetricsBoard (metrics_board.hpp), read at scrape time; no message goes
// to the workers, so a scrape costs them nothing and a busy or stuck worker does
// not delay it. The process_* figures are summed over the daemon's processes
// (process_stats.hpp): CPU and resident memory from /proc/PID/stat of each
// worker the board names and of the serving process, descriptors as the workers
// count them; process_start_time_seconds is the serving process's start.
//
// The listener is a separate socket on its own address (loopback in every
// example: metrics are for the monitoring system, not the browsers) and uses the
// same HTTP code as the BOSH listener (HttpSocket, Router), so its limits and
// timeouts are the same. Only /metrics exists; other paths get 404, other
// methods 405.
#pragma once

#include <uv.h>

#include <functional>
#include <memory>
#include <string>

#include "app/front/http_socket.hpp"
#include "app/metrics/metrics_board.hpp"
#include "app/metrics/metrics_text.hpp"
#include "base/timer_wheel.hpp"
#include "http/cors.hpp"
#include "http/limits.hpp"
#include "http/router.hpp"
#include "net/listener.hpp"

namespace sb::app {

class MetricsServer final : private http::Handler {
 public:
  // What only the owner knows, asked at every scrape.
  using FiguresFn = std::function<DaemonFigures()>;

  // `serving_is_worker`: this process is also the board's worker 0 (one worker),
  // whose figures are already in its slot.
  MetricsServer(uv_loop_t* loop, base::TimerWheel& wheel, const MetricsBoard& board,
                const http::ConnectionLimits& limits, FiguresFn figures, bool serving_is_worker);
  MetricsServer(const MetricsServer&) = delete;
  MetricsServer& operator=(const MetricsServer&) = delete;

  // Returns 0 or a negative UV_E* error with `error` set.
  int listen(const std::string& address, std::string& error);
  // The same on the listening socket `fd` an old daemon handed over (an upgrade
  // in place), opened on `address`: its queue goes on.
  int listen_inherited(int fd, const std::string& address, std::string& error) {
    return listener_.listen_inherited(fd, address, error);
  }
  // The listener, for an upgrade in place to hand its socket on.
  net::Listener& listener() { return listener_; }
  int bound_port() const { return listener_.bound_port(); }
  // Stops listening and closes the scrapers' connections (shutdown).
  void close();

  // The exposition text as a scrape would get it now.
  std::string render() const;

 private:
  void handle(http::Request& request, http::Exchange& exchange) override;

  const MetricsBoard& board_;
  FiguresFn figures_;
  bool serving_is_worker_;
  double start_time_ = 0;
  http::ConnectionLimits limits_;
  http::CorsPolicy cors_;  // no origins: a monitoring system is no browser
  http::Router router_;
  HttpSocketList sockets_;
  HttpSocket::Shared shared_;
  net::Listener listener_;
};

}  // namespace sb::app
