// The supervisor's upgrades in place: giving the daemon's place to a new binary
// (SIGUSR2, SupervisorUpgrade), and taking it over as that new binary. See
// supervisor.hpp and app/upgrade/supervisor_upgrade.hpp.
#include <unistd.h>

#include <csignal>

#include "app/log/log.hpp"
#include "app/process/notify.hpp"
#include "app/process/supervisor.hpp"
#include "app/process/supervisor_slot.hpp"
#include "app/process/worker_launch.hpp"
#include "app/upgrade/pid_file.hpp"
#include "app/upgrade/upgrade_wire.hpp"

namespace sb::app {

void Supervisor::set_upgrade_source(std::string exe, std::vector<std::string> args) {
  upgrade_exe_ = std::move(exe);
  upgrade_args_ = std::move(args);
}

void Supervisor::begin_upgrade() {
  const auto refuse = [this](const std::string& why) {
    SB_LOG_WARN("upgrade refused: %s", why.c_str());
    write_upgrade_failed(config_.pid_file, why);
  };
  if (upgrade_exe_.empty()) return refuse("this daemon does not know its binary's path");
  if (upgrade_ && upgrade_->busy()) return refuse("the last one is still under way");
  if (taking_over_) return refuse("this daemon is still taking over from the one before it");
  if (reloading_) return refuse("a reload is under way: ask again once it is done");
  for (const auto& slot : slots_) {
    if (slot->current == nullptr || !slot->listening) {
      return refuse("worker " + std::to_string(slot->index) +
                    " is not up (it is starting or restarting): ask again once it is");
    }
  }
  SupervisorUpgrade::Shared shared;
  shared.board_fd = metrics_board_ ? metrics_board_->fd() : -1;
  if (metrics_server_ && config_.metrics_listen) {
    shared.metrics_fd = metrics_server_->listener().fd();
    shared.metrics_address = listen_address(*config_.metrics_listen);
  }
  upgrade_ = std::make_unique<SupervisorUpgrade>(
      &loop_, config_.workers, shared,
      [this](std::uint32_t index, int fd) { return relay_->send_gate(index, fd); },
      [this](const SupervisorUpgrade::Outcome& outcome) { upgrade_done(outcome); });
  SB_LOG_INFO("upgrade: asked for (SIGUSR2); %u workers hand over their sessions", running_);
  std::string error;
  if (!upgrade_->start(upgrade_exe_, upgrade_args_, error)) {
    SupervisorUpgrade::Outcome failed;
    failed.reason = error;
    upgrade_done(failed);
  }
}

void Supervisor::upgrade_done(const SupervisorUpgrade::Outcome& outcome) {
  if (!outcome.committed) {
    SB_LOG_ERROR("upgrade failed: %s; every worker keeps its sessions", outcome.reason.c_str());
    write_upgrade_failed(config_.pid_file, outcome.reason);
    return;
  }
  SB_LOG_INFO(
      "upgrade: every worker handed over to the daemon of pid %d (%llu sessions); "
      "this one ends",
      outcome.child_pid, static_cast<unsigned long long>(outcome.tally.moved));
  notify_main_pid(outcome.child_pid);
  retire();
}

// Handed over: the workers end by themselves (each ends what stayed behind and
// exits); this supervisor restarts none, serves no more metrics, and exits when
// they are gone, killing what is left after kStopTimeoutMs.
void Supervisor::retire() {
  handed_over_ = true;
  stopping_ = true;
  if (metrics_server_) metrics_server_->close();
  if (agent_server_) agent_server_->close();
  reloading_ = false;
  uv_timer_stop(&reload_timer_);
  for (auto& slot : slots_) {
    uv_timer_stop(&slot->restart_timer);
    uv_timer_stop(&slot->hang_timer);
  }
  uv_timer_start(&stop_timer_, &Supervisor::on_stop_timeout, kStopTimeoutMs, 0);
  finish_if_done();
}

// A new daemon's supervisor: each index's first worker gets its channel to the
// old worker of that index, and the old supervisor's channel is watched for its
// commit (or its abort).
void Supervisor::start_takeover() {
  taking_over_ = true;
  takeover_tally_ = UpgradeTally{};
  for (auto& slot : slots_) {
    slot->upgrade_fd = taker_->take_socket("worker", std::to_string(slot->index));
  }
  uv_poll_init(&loop_, &takeover_poll_, taker_->channel().fd());
  takeover_poll_.data = this;
  takeover_polling_ = true;
  uv_poll_start(&takeover_poll_, UV_READABLE, &Supervisor::on_takeover_readable);
  SB_LOG_INFO("upgrade: taking over %u workers' sessions", config_.workers);
}

void Supervisor::on_takeover_readable(uv_poll_t* poll, int, int) {
  auto& self = *static_cast<Supervisor*>(poll->data);
  UpgradeChannel::Message word;
  std::string error;
  if (!self.taker_->channel().receive(word, 1000, error)) {
    if (self.commit_heard_) {  // it says nothing more after commit
      uv_poll_stop(poll);
      return;
    }
    self.fail_takeover("the old daemon went away before its commit (" + error + ")");
    return;
  }
  if (word.kind == static_cast<std::uint8_t>(UpgradeKind::kCommit)) {
    self.commit_heard_ = true;
    self.finish_takeover_if_done();
    return;
  }
  self.fail_takeover(word.kind == static_cast<std::uint8_t>(UpgradeKind::kAbort)
                         ? "the old daemon called it off: " + word.bytes
                         : std::string("the old daemon said something unexpected"));
}

// A worker's "upgraded": what it took over, to add up.
void Supervisor::worker_took_over(Slot& slot, const ControlMessage& message) {
  if (!slot.taking_over) return;
  slot.taking_over = false;
  UpgradeTally tally;
  if (!UpgradeTally::parse(message.body, tally)) {
    SB_LOG_WARN("worker %u: its upgrade account is unreadable", slot.index);
  }
  takeover_tally_.add(tally);
  ++took_over_;
  finish_takeover_if_done();
}

// A worker that was to take over did not start, or exited before it said it
// had. Before the old daemon's commit nothing of it has moved: the upgrade fails
// and the old daemon keeps everything. After it, that worker's sessions are lost
// as in any crash; it starts again empty.
void Supervisor::worker_lost_in_takeover(Slot& slot) {
  slot.taking_over = false;
  if (!taking_over_) return;
  // Its old worker may have said commit already: read the old supervisor's word
  // first if it waits.
  if (!commit_heard_ && takeover_polling_) {
    UpgradeChannel::Message word;
    std::string ignored;
    if (taker_->channel().receive(word, 0, ignored) &&
        word.kind == static_cast<std::uint8_t>(UpgradeKind::kCommit)) {
      commit_heard_ = true;
    }
  }
  if (!commit_heard_) {
    fail_takeover("worker " + std::to_string(slot.index) + " exited while taking over");
    return;
  }
  // Its sessions went to its keeper before it said "upgraded" (docs/crash.md):
  // the restarted worker takes them up if the keeper had them.
  SB_LOG_ERROR(
      "upgrade: worker %u exited while taking over; it is restarted with what its keeper holds",
      slot.index);
  ++took_over_;
  finish_takeover_if_done();
}

// This daemon cannot take over: the old one keeps everything (it hears why),
// and this one stops its workers at once and exits with status 1.
void Supervisor::fail_takeover(const std::string& why) {
  if (!taking_over_) return;
  taking_over_ = false;
  SB_LOG_ERROR("upgrade: %s; the old daemon keeps every session", why.c_str());
  taker_->refuse(why);
  if (takeover_polling_) {
    takeover_polling_ = false;
    uv_close(reinterpret_cast<uv_handle_t*>(&takeover_poll_), nullptr);
  }
  exit_status_ = 1;
  stopping_ = true;
  relay_->close_all();
  if (metrics_server_) metrics_server_->close();
  if (agent_server_) agent_server_->close();
  for (auto& slot : slots_) {
    uv_timer_stop(&slot->restart_timer);
    uv_timer_stop(&slot->hang_timer);
    if (slot->upgrade_fd >= 0) ::close(slot->upgrade_fd);
    slot->upgrade_fd = -1;
  }
  kill_all(SIGKILL);  // they may be blocked waiting for records that will not come
  finish_if_done();
}

// Every worker has taken over and the old daemon has said commit: this daemon is
// the one now. The pid file names it, and the outcome line gives the account.
void Supervisor::finish_takeover_if_done() {
  if (!taking_over_ || !commit_heard_ || took_over_ < slots_.size()) return;
  taking_over_ = false;
  if (takeover_polling_) {
    takeover_polling_ = false;
    uv_close(reinterpret_cast<uv_handle_t*>(&takeover_poll_), nullptr);
  }
  const std::string summary = takeover_tally_.summary(monotonic_ns());
  SB_LOG_INFO("%s", summary.c_str());
  if (const std::string error = write_pid_file(config_.pid_file, getpid()); !error.empty()) {
    SB_LOG_ERROR("pid_file %s", error.c_str());
  }
  write_upgrade_ok(config_.pid_file, getppid(), summary);
}

}  // namespace sb::app
