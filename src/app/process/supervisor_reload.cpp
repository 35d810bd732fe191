// The supervisor's reloads and log reopening: SIGHUP reads the file again and
// sends the new configuration to every worker as a control frame, waiting (up to
// kReloadTimeoutMs) for each one's answer; SIGUSR1 reopens the log file and is
// passed on to the workers that listen. The workers' control messages (listening,
// heartbeats, answers to a reload) arrive here too. See supervisor.hpp.
#include <algorithm>
#include <csignal>
#include <cstdlib>

#include "app/config/config_reload.hpp"
#include "app/log/log.hpp"
#include "app/process/fd_budget.hpp"
#include "app/process/heartbeat.hpp"
#include "app/process/notify.hpp"
#include "app/process/supervisor.hpp"
#include "app/process/supervisor_slot.hpp"
#include "app/process/worker_launch.hpp"

namespace sb::app {

void Supervisor::on_reload_signal(uv_signal_t* handle, int signum) {
  auto& self = *static_cast<Supervisor*>(handle->data);
  if (self.stopping_) return;
  if (signum == SIGUSR1) {
    self.reopen_logs();
  } else if (signum == SIGUSR2) {
    self.begin_upgrade();
  } else if ((self.upgrade_ && self.upgrade_->busy()) || self.taking_over_) {
    SB_LOG_WARN("reload refused: an upgrade in place is under way; send SIGHUP again after it");
  } else {
    self.reload();
  }
}

void Supervisor::reopen_logs() {
  const std::string error = reopen_log_file();
  if (!error.empty())
    SB_LOG_ERROR("cannot reopen the log file %s; still logging to the old one", error.c_str());
  // A worker that has not said "listening" yet may not handle SIGUSR1 yet (its
  // default action ends the process); it opens the file by name when it starts.
  for (auto& slot : slots_) {
    if (slot->current != nullptr && slot->listening)
      uv_process_kill(&slot->current->process, SIGUSR1);
  }
}

void Supervisor::reload() {
  notify_reloading();
  std::optional<Config> loaded = load_for_reload(config_path_, overrides_);
  if (!loaded) {
    notify_ready(ready_status());
    return;
  }
  // `workers` as the start resolved it, so that "auto" is not a change.
  loaded->workers = resolve_worker_count(loaded->workers, loaded->max_sessions, raise_fd_limit());
  const ReloadPlan plan = plan_reload_logged(config_, *loaded);
  config_ = plan.next;
  ++generation_;
  apply_log_settings(config_);
  SB_LOG_INFO(
      "reload %llu: %s; sending it to %u workers", static_cast<unsigned long long>(generation_),
      plan.changed.empty() ? "nothing changed" : ("changed " + join_keys(plan.changed)).c_str(),
      running_);
  const std::string body = std::to_string(generation_) + "\n" + encode_config(config_);
  for (auto& slot : slots_) {
    if (slot->current == nullptr || slot->generation == generation_) continue;
    // A pipe that cannot take it belongs to a worker on its way out; its next
    // process starts with this configuration anyway.
    if (!relay_->send_control(slot->index, "config", body)) slot->generation = generation_;
  }
  reloading_ = true;
  uv_timer_start(&reload_timer_, &Supervisor::on_reload_timeout, kReloadTimeoutMs, 0);
  finish_reload_if_done(false);
}

void Supervisor::on_control(std::uint32_t index, const ControlMessage& message) {
  if (index >= slots_.size()) return;
  Slot& slot = *slots_[index];
  watch_for_hang(slot);  // any message is a sign of life
  if (message.kind == Heartbeat::kKind) return;
  if (message.kind == "upgraded") {
    worker_took_over(slot, message);
    return;
  }
  if (message.kind == "listening") {
    slot.listening = true;
    const bool all = std::all_of(slots_.begin(), slots_.end(), [](const auto& s) {
      return s->current == nullptr || s->listening;
    });
    if (all && !all_listening_logged_) {
      all_listening_logged_ = true;
      SB_LOG_INFO("all %u workers listening", running_);
      notify_ready(ready_status());
    }
    return;
  }
  if (message.kind == "applied" || message.kind == "refused") {
    const std::uint64_t generation = std::strtoull(message.body.c_str(), nullptr, 10);
    if (message.kind == "refused") {
      SB_LOG_ERROR("worker %u refused configuration %llu (see its log); it keeps its own", index,
                   static_cast<unsigned long long>(generation));
    }
    slot.generation = std::max(slot.generation, generation);
    // A new worker_hang_timeout counts once the worker beats at its rate: from
    // its answer on. One that refused keeps beating as before, and is watched so.
    if (message.kind == "applied" && generation == generation_ &&
        slot.hang_timeout_s != config_.worker_hang_timeout) {
      slot.hang_timeout_s = config_.worker_hang_timeout;
      watch_for_hang(slot);
    }
    if (reloading_) finish_reload_if_done(false);
    return;
  }
  SB_LOG_WARN("worker %u: unknown control message '%s'", index, message.kind.c_str());
}

void Supervisor::on_reload_timeout(uv_timer_t* timer) {
  static_cast<Supervisor*>(timer->data)->finish_reload_if_done(true);
}

void Supervisor::finish_reload_if_done(bool timed_out) {
  if (!reloading_) return;
  std::string late;
  for (const auto& slot : slots_) {
    if (slot->current != nullptr && slot->generation < generation_) {
      late += (late.empty() ? "" : ", ") + std::to_string(slot->index);
    }
  }
  if (!late.empty() && !timed_out) return;
  reloading_ = false;
  uv_timer_stop(&reload_timer_);
  if (late.empty()) {
    SB_LOG_INFO("reload %llu done: every worker runs it",
                static_cast<unsigned long long>(generation_));
  } else {
    SB_LOG_WARN("reload %llu: workers %s did not answer within %llu ms",
                static_cast<unsigned long long>(generation_), late.c_str(),
                static_cast<unsigned long long>(kReloadTimeoutMs));
  }
  notify_ready(ready_status());
}

std::string Supervisor::ready_status() const {
  return std::to_string(config_.workers) + " workers listening on " + listen_address(config_);
}

}  // namespace sb::app
