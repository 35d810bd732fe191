// A worker's orderly end: SIGTERM or SIGINT (or the supervisor's pipe closing)
// stops accepting and ends every session with system-shutdown, gives answers and
// stream closes kDrainMs to flush, then closes every socket and handle, and leaves
// the loop at the latest kCloseMs later. See worker.hpp.
#include <csignal>
#include <cstdlib>
#include <string>

#include "app/log/log.hpp"
#include "app/process/notify.hpp"
#include "app/process/worker.hpp"
#include "app/upgrade/upgrade_tally.hpp"

namespace sb::app {
namespace {
constexpr std::uint64_t kDrainMs = 1000;  // for answers and </stream:stream> to flush
constexpr std::uint64_t kCloseMs = 3000;  // then for sockets to close, at most
}  // namespace

void Worker::on_signal(uv_signal_t* handle, int signum) {
  auto& self = *static_cast<Worker*>(handle->data);
  if (self.shutdown_phase_ > 0) {
    if (self.handover_) return;  // supervised: the supervisor decides when to kill
    SB_LOG_WARN("second signal %d: exiting now", signum);
    std::_Exit(1);
  }
  SB_LOG_INFO("signal %d: shutting down %zu sessions", signum, self.sessions_->size());
  self.begin_shutdown();
}

void Worker::begin_shutdown() {
  shutdown_phase_ = 1;
  if (upgrade_ && !upgrade_->finished()) upgrade_->abandon("this daemon is stopping");
  if (!handover_) notify_stopping();
  if (admission_) admission_->stop();
  if (board_) board_->forget(static_cast<std::uint32_t>(index_));
  listener_->close();
  if (tls_listener_) tls_listener_->close();
  if (metrics_server_) metrics_server_->close();
  if (agent_server_) agent_server_->close();
  endpoint_->refuse_new_sessions();
  sessions_->end_all(bosh::Condition::kSystemShutdown);
  sessions_->collect();
  if (websocket_) websocket_->shut_down();
  uv_timer_start(&shutdown_timer_, &Worker::on_shutdown_timer, kDrainMs, 0);
}

void Worker::on_shutdown_timer(uv_timer_t* handle) {
  auto& self = *static_cast<Worker*>(handle->data);
  if (self.shutdown_phase_ == 1) {
    self.finish_shutdown();
    return;
  }
  // Sockets that would not close in time: stop the loop regardless.
  uv_stop(handle->loop);
}

// The client connections the shutdown closes with something under way on them
// (a request waiting, half read, an answer not yet written): a client may see
// them cut. Said once, with why.
void Worker::log_cut_connections() {
  ReasonCounts cut;
  for (HttpSocket* s = sockets_.first(); s != nullptr; s = s->next) {
    const std::string_view why = s->why_not_movable();
    if (s->requests_in_flight() > 0) {
      ++cut["a request waiting"];
    } else if (why == "a request half read" || why == "writing" ||
               why == "an answer not yet written") {
      ++cut[std::string(why)];
    }
  }
  if (cut.empty()) return;
  SB_LOG_WARN("shutdown: closing %llu client connections with something under way (%s)",
              static_cast<unsigned long long>(reason_total(cut)), reason_list(cut).c_str());
}

void Worker::finish_shutdown() {
  shutdown_phase_ = 2;
  // Closing the pipe first fails the hand-overs still being sent, which closes
  // their sockets too.
  if (heartbeat_) heartbeat_->close();
  stop_watching_forwards();
  stop_passing_on();
  pacer_->close();
  if (handover_) handover_->close();
  log_cut_connections();
  sockets_.close_all();
  if (websocket_) websocket_->close_all();
  // Links still waiting for a server's </stream:stream> (a deaf server) are
  // closed now, so they free themselves before the loop ends.
  upstreams_->close_all();
  context_->stop_ticking();
  uv_check_stop(&collector_);
  uv_close(reinterpret_cast<uv_handle_t*>(&collector_), nullptr);
  uv_close(reinterpret_cast<uv_handle_t*>(&sigterm_), nullptr);
  uv_close(reinterpret_cast<uv_handle_t*>(&sigint_), nullptr);
  uv_close(reinterpret_cast<uv_handle_t*>(&sample_timer_), nullptr);
  uv_close(reinterpret_cast<uv_handle_t*>(&sighup_), nullptr);
  uv_close(reinterpret_cast<uv_handle_t*>(&sigusr1_), nullptr);
  uv_close(reinterpret_cast<uv_handle_t*>(&sigusr2_), nullptr);
  watchdog_.stop();
  uv_timer_start(&shutdown_timer_, &Worker::on_shutdown_timer, kCloseMs, 0);
  uv_unref(reinterpret_cast<uv_handle_t*>(&shutdown_timer_));
}

}  // namespace sb::app
