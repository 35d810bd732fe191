// The worker's part in an upgrade in place (app/upgrade/): SIGUSR2 starts the
// new binary beside this one (UpgradeGiver), whose outcome ends this daemon or
// leaves it serving; a worker started to take over gets its listeners and
// sessions from the old daemon (UpgradeTaker). See worker.hpp.
#include <unistd.h>

#include <csignal>

#include "app/log/log.hpp"
#include "app/process/worker.hpp"
#include "app/process/worker_launch.hpp"
#include "app/upgrade/pid_file.hpp"

namespace sb::app {
namespace {
constexpr int kBacklog = 4096;
constexpr std::uint64_t kPassEveryMs = 20;  // idle connections go on to the new daemon
}  // namespace

void Worker::set_upgrade_source(std::string exe, std::vector<std::string> args) {
  upgrade_exe_ = std::move(exe);
  upgrade_args_ = std::move(args);
}

void Worker::on_upgrade_signal(uv_signal_t* handle, int) {
  static_cast<Worker*>(handle->data)->begin_upgrade();
}

void Worker::begin_upgrade() {
  if (shutdown_phase_ > 0) return;
  if (handover_) {
    SB_LOG_DEBUG("SIGUSR2 ignored: the supervisor decides upgrades");
    return;
  }
  const auto refuse = [this](const char* why) {
    SB_LOG_WARN("upgrade refused: %s", why);
    write_upgrade_failed(config_.pid_file, why);
  };
  if (upgrade_exe_.empty()) return refuse("this daemon does not know its binary's path");
  if (upgrade_ && upgrade_->busy()) return refuse("the last one is still under way");
  upgrade_ = std::make_unique<UpgradeGiver>(
      upgrade_source(), [this](const UpgradeOutcome& outcome) { upgrade_done(outcome); });
  SB_LOG_INFO("upgrade: asked for (SIGUSR2); %zu BOSH sessions to move", sessions_->size());
  std::string error;
  if (!upgrade_->start(upgrade_exe_, upgrade_args_, error)) {
    UpgradeOutcome failed;
    failed.reason = error;
    upgrade_done(failed);
  }
}

UpgradeSource Worker::upgrade_source() {
  UpgradeSource source;
  source.loop = &loop_;
  source.sessions = sessions_.get();
  source.sockets = &sockets_;
  source.listeners.push_back({"http", listener_.get(), listen_address(config_)});
  if (tls_listener_) {
    source.listeners.push_back({"https", tls_listener_.get(), tls_listen_address(config_)});
  }
  // Alone, the board and the metrics listener are ours to hand on; supervised,
  // the supervisor's.
  if (metrics_board_ && metrics_server_) {
    source.board_fd = metrics_board_->fd();
    source.listeners.push_back(
        {"metrics", &metrics_server_->listener(), listen_address(*config_.metrics_listen)});
  }
  return source;
}

// Supervised: the supervisor sent this worker its end of the gate
// (supervisor_upgrade.hpp), on which the channel to this index's new worker
// follows at once.
void Worker::begin_supervised_upgrade(int gate_fd) {
  auto gate = std::make_unique<UpgradeChannel>(gate_fd);
  std::string error;
  const auto refuse = [&gate](const std::string& why) {
    SB_LOG_WARN("upgrade refused: %s", why.c_str());
    std::string ignored;
    gate->send(static_cast<std::uint8_t>(UpgradeKind::kRefused), why, {}, 100, ignored);
  };
  if (shutdown_phase_ > 0) return refuse("this worker is stopping");
  if (upgrade_ && upgrade_->busy()) return refuse("this worker's last upgrade is still under way");
  UpgradeChannel::Message start;
  if (!gate->receive(start, 5000, error) ||
      start.kind != static_cast<std::uint8_t>(UpgradeKind::kStart) || start.fds.size() != 1) {
    for (int fd : start.fds) ::close(fd);
    return refuse("the supervisor's gate did not bring the channel" +
                  (error.empty() ? std::string() : ": " + error));
  }
  SB_LOG_INFO("upgrade: %zu BOSH sessions to move to this index's new worker", sessions_->size());
  upgrade_ = std::make_unique<UpgradeGiver>(
      upgrade_source(), [this](const UpgradeOutcome& outcome) { upgrade_done(outcome); });
  upgrade_->start_supervised(start.fds[0], std::move(gate));
}

// Committed: the sessions that moved are gone from here; the rest end as in a
// shutdown, and this process exits. Rolled back: nothing changed.
void Worker::upgrade_done(const UpgradeOutcome& outcome) {
  if (!outcome.committed) {
    if (handover_) {  // the supervisor tells the story
      SB_LOG_WARN("upgrade called off: %s; this worker keeps every session",
                  outcome.reason.c_str());
      return;
    }
    SB_LOG_ERROR("upgrade failed: %s; this daemon keeps every session", outcome.reason.c_str());
    write_upgrade_failed(config_.pid_file, outcome.reason);
    return;
  }
  std::uint64_t ended = 0;
  for (const auto& entry : outcome.account.ended) ended += entry.second;
  SB_LOG_INFO("upgrade: %llu sessions and %llu idle connections handed over; %llu end here",
              static_cast<unsigned long long>(outcome.account.sessions),
              static_cast<unsigned long long>(outcome.account.connections),
              static_cast<unsigned long long>(ended));
  if (!handover_) notify_main_pid(outcome.child_pid);
  // The new daemon writes the metrics board's slot from now on.
  recorder_.leave_board();
  // What stays (a request half read, an answer being written, a hand-over still
  // on its way here) goes on to the new daemon as it comes, until the shutdown
  // closes what is left.
  if (std::unique_ptr<UpgradeChannel> channel = upgrade_->take_channel()) {
    successor_ = std::make_unique<SuccessorLink>(std::move(channel), *shared_);
    endpoint_->set_foreign_sid_router(successor_.get());
    uv_timer_init(&loop_, &pass_timer_);
    pass_timer_.data = this;
    uv_timer_start(&pass_timer_, &Worker::on_pass_timer, 0, kPassEveryMs);
  }
  begin_shutdown();
}

// A connection another worker handed to this one. Once this worker's sessions
// have moved, it goes on, with its request, to the new worker of this index.
void Worker::adopt_handed_over(net::TcpStream& stream, std::string_view request,
                               std::string_view peer, bool tls_relayed) {
  if (successor_ && successor_->pass_on(stream, request, peer, tls_relayed)) {
    SB_LOG_DEBUG("upgrade: a late hand-over passed on to the new worker");
    return;
  }
  HttpSocket::adopt(stream, *shared_, request, peer, tls_relayed);
}

void Worker::on_pass_timer(uv_timer_t* timer) {
  auto& self = *static_cast<Worker*>(timer->data);
  if (self.successor_) self.successor_->pass_idle(self.sockets_);
}

void Worker::stop_passing_on() {
  if (!successor_) return;
  SB_LOG_INFO("upgrade: %llu client connections passed on to the new daemon after the move",
              static_cast<unsigned long long>(successor_->passed()));
  endpoint_->set_foreign_sid_router(handover_.get());
  uv_close(reinterpret_cast<uv_handle_t*>(&pass_timer_), nullptr);
  successor_.reset();
}

// The new worker: what the old one passes on arrives on the taker's channel
// until the old worker exits and the channel ends.
void Worker::watch_for_forwards() {
  if (uv_poll_init(&loop_, &forward_poll_, taker_->channel().fd()) != 0) return;
  forward_poll_.data = this;
  forward_polling_ = true;
  uv_poll_start(&forward_poll_, UV_READABLE, &Worker::on_forward);
  if (taker_->channel().buffered()) on_forward(&forward_poll_, 0, UV_READABLE);
}

void Worker::on_forward(uv_poll_t* poll, int, int) {
  auto& self = *static_cast<Worker*>(poll->data);
  do {
    if (!self.take_forward()) return;
  } while (self.forward_polling_ && self.taker_->channel().buffered());
}

// One message from the old worker: false when the channel has ended.
bool Worker::take_forward() {
  if (taker_->take_forward(upgrade_parts())) return true;
  stop_watching_forwards();  // the old worker is gone: nothing more comes
  return false;
}

void Worker::stop_watching_forwards() {
  if (!forward_polling_) return;
  forward_polling_ = false;
  uv_close(reinterpret_cast<uv_handle_t*>(&forward_poll_), nullptr);
}

// The listener of `role` on `address`: the old daemon's very socket when this
// daemon takes over from one that listened there, else a new one.
int Worker::listen_on(net::Listener& listener, const char* role, const std::string& address,
                      std::string& error) {
  if (taker_ != nullptr) {
    const int fd = taker_->take_socket(role, address);
    if (fd >= 0) return listener.listen_inherited(fd, address, error);
  }
  return listener.listen(address, kBacklog, error);
}

UpgradeTaker::Parts Worker::upgrade_parts() {
  return UpgradeTaker::Parts{&loop_,        *sessions_,
                             *upstreams_,   *shared_,
                             cors_,         websocket_ ? &websocket_->shared() : nullptr,
                             context_.get()};
}

bool Worker::take_over(std::string& error) {
  if (!taker_->take_over(upgrade_parts(), error)) return false;
  // switchboard_upgrade_sessions_total, counted here: this daemon writes the
  // board from now on.
  MetricsSlot& slot = recorder_.slot();
  slot.add(metric::kUpgradeSessions, taker_->sessions_moved());
  const auto reason_slot = [](const std::string& reason) {
    for (std::size_t i = 1; i < metric::kUpgradeReasonSlots; ++i) {
      if (reason == metric::kUpgradeReasons[i]) return i;
    }
    return metric::kUpgradeReasonSlots - 1;  // other
  };
  slot.add(metric::kUpgradeSessions + reason_slot("link"), taker_->links_lost());
  for (const auto& [reason, count] : taker_->account().ended) {
    slot.add(metric::kUpgradeSessions + reason_slot(reason), count);
  }
  return true;
}

}  // namespace sb::app
