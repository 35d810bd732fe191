// The supervisor: starts, restarts and stops the worker processes. See
// supervisor.hpp.
#include "app/process/supervisor.hpp"
#include "app/process/supervisor_slot.hpp"

#include <unistd.h>

#include <algorithm>
#include <csignal>
#include <cstdlib>
#include <utility>

#include "app/config/config_reload.hpp"
#include "app/log/log.hpp"
#include "app/process/engine_settings.hpp"
#include "app/process/fd_budget.hpp"
#include "app/process/heartbeat.hpp"
#include "app/process/worker_launch.hpp"
#include "net/listener.hpp"
#include "net/loop_context.hpp"

namespace sb::app {

void Supervisor::set_reload_source(std::string path, std::vector<Override> overrides) {
  config_path_ = std::move(path);
  overrides_ = std::move(overrides);
}

Supervisor::Supervisor(const Config& config, std::string program, int metrics_fd)
    : config_(config), program_(std::move(program)) {
  uv_loop_init(&loop_);
  relay_ = std::make_unique<HandoverRelay>(&loop_, config.workers);
  relay_->set_control_handler(
      [this](std::uint32_t index, const ControlMessage& message) { on_control(index, message); });
  std::string error;
  board_ = ListenBoard::create(error);
  if (!board_) SB_LOG_WARN("%s: full workers will keep their listeners open", error.c_str());
  if (metrics_fd >= 0) {
    // Handed over by the daemon this one replaces: the counters go on.
    metrics_board_ = wants_metrics_board(config)
                         ? MetricsBoard::attach(metrics_fd, config.workers, error)
                         : nullptr;
    if (!metrics_board_) {
      ::close(metrics_fd);
      if (!error.empty()) SB_LOG_WARN("%s: counters start again from zero", error.c_str());
      error.clear();
    }
  }
  if (wants_metrics_board(config) && !metrics_board_) {
    metrics_board_ = MetricsBoard::create(config.workers, error);
  }
  if (config.agent_listen) {
    if (!metrics_board_) {
      SB_LOG_WARN("%s: no agent-check", error.c_str());
    } else {
      // config_, not config: a reload's max_sessions and drain count at the next check.
      agent_server_ = std::make_unique<AgentServer>(
          &loop_, [this] { return agent_figures(*metrics_board_, config_); });
    }
  }
  if (config.metrics_listen) {
    if (!metrics_board_) {
      SB_LOG_WARN("%s: no metrics", error.c_str());
    } else {
      context_ = std::make_unique<net::LoopContext>(&loop_);  // the scrapers' connections need it
      metrics_server_ = std::make_unique<MetricsServer>(
          &loop_, context_->timers(), *metrics_board_, connection_limits(config),
          [this] {
            DaemonFigures figures;
            figures.workers_configured = config_.workers;
            figures.workers_running = running_;
            figures.worker_restarts_exited = restarts_exited_;
            figures.worker_restarts_hung = restarts_hung_;
            figures.handovers_relayed = relay_->counters().relayed;
            figures.handovers_dropped = relay_->counters().dropped;
            figures.handovers_refused = relay_->counters().refused;
            figures.handovers_lost = relay_->counters().lost;
            figures.relay_held_sockets = relay_->held();
            return figures;
          },
          false);
    }
  }
  for (std::uint32_t i = 0; i < config.workers; ++i) {
    auto slot = std::make_unique<Slot>();
    slot->owner = this;
    slot->index = i;
    slots_.push_back(std::move(slot));
  }
}

Supervisor::~Supervisor() {
  upgrade_.reset();
  agent_server_.reset();
  metrics_server_.reset();
  context_.reset();
  relay_.reset();
  uv_loop_close(&loop_);
}

int Supervisor::run() {
  // Taking over, the old workers' listening sockets are in the same
  // SO_REUSEPORT group as a probe would be: the kernel would queue connections
  // on the probe too, and reset them when it closes. A new worker that cannot
  // listen fails the take-over instead, and the old daemon keeps everything.
  if (taker_ == nullptr && !probe_listen_address()) return 1;
  // An upgrade's new daemon inherits the secret in its environment: tickets keep
  // resuming across it.
  if (config_.tls_listen && config_.tls_ticket_rotation > 0 &&
      std::getenv(kTicketSecretEnv) == nullptr && !share_ticket_secret()) {
    SB_LOG_ERROR("cannot make the TLS session-ticket secret: the random generator failed");
    return 1;
  }
  if (metrics_server_) {
    std::string error;
    const std::string address = listen_address(*config_.metrics_listen);
    // Taking over, the old supervisor's very socket (its queue goes on).
    const int inherited = taker_ != nullptr ? taker_->take_socket("metrics", address) : -1;
    if ((inherited >= 0 ? metrics_server_->listen_inherited(inherited, address, error)
                        : metrics_server_->listen(address, error)) != 0) {
      SB_LOG_ERROR("cannot listen for metrics on %s: %s", address.c_str(), error.c_str());
      metrics_server_->close();
      uv_run(&loop_, UV_RUN_NOWAIT);  // runs the close callbacks
      return 1;
    }
    context_->start_ticking();
    SB_LOG_INFO("metrics on http://%s/metrics", address.c_str());
  }
  if (agent_server_) {
    std::string error;
    const std::string address = listen_address(*config_.agent_listen);
    if (agent_server_->listen(address, error) != 0) {
      SB_LOG_ERROR("cannot listen for agent checks on %s: %s", address.c_str(), error.c_str());
      agent_server_->close();
      if (metrics_server_) metrics_server_->close();
      uv_run(&loop_, UV_RUN_NOWAIT);  // runs the close callbacks
      return 1;
    }
    SB_LOG_INFO("agent-check on %s", address.c_str());
  }
  for (auto* sig : {&sigterm_, &sigint_}) {
    uv_signal_init(&loop_, sig);
    sig->data = this;
  }
  uv_signal_start(&sigterm_, &Supervisor::on_signal, SIGTERM);
  uv_signal_start(&sigint_, &Supervisor::on_signal, SIGINT);
  for (auto* sig : {&sighup_, &sigusr1_, &sigusr2_}) {
    uv_signal_init(&loop_, sig);
    sig->data = this;
    uv_unref(reinterpret_cast<uv_handle_t*>(sig));
  }
  uv_signal_start(&sighup_, &Supervisor::on_reload_signal, SIGHUP);
  uv_signal_start(&sigusr1_, &Supervisor::on_reload_signal, SIGUSR1);
  uv_signal_start(&sigusr2_, &Supervisor::on_reload_signal, SIGUSR2);
  uv_timer_init(&loop_, &stop_timer_);
  stop_timer_.data = this;
  uv_timer_init(&loop_, &reload_timer_);
  reload_timer_.data = this;
  for (auto& slot : slots_) {
    uv_timer_init(&loop_, &slot->restart_timer);
    slot->restart_timer.data = slot.get();
    uv_timer_init(&loop_, &slot->hang_timer);
    slot->hang_timer.data = slot.get();
  }
  watchdog_.start(&loop_);
  SB_LOG_INFO("starting %u workers on http://%s%s", config_.workers,
              listen_address(config_).c_str(), config_.bosh_path.c_str());
  if (taker_ != nullptr) start_takeover();
  if (config_.keep_sessions) start_keepers();
  for (auto& slot : slots_) spawn(*slot);

  uv_run(&loop_, UV_RUN_DEFAULT);

  // Every worker is gone and our handles are closed; collect any stragglers.
  net::close_remaining_handles(&loop_);
  SB_LOG_INFO("all workers stopped (%llu connections relayed, %llu dropped)",
              static_cast<unsigned long long>(relay_->counters().relayed),
              static_cast<unsigned long long>(relay_->counters().dropped));
  return exit_status_;
}

// Binds the address once before starting anything: a worker that cannot listen
// would otherwise be restarted forever. This catches a bad address and a port
// held by another program; it cannot catch one held by another SO_REUSEPORT
// listener of the same user, which the kernel lets us share.
bool Supervisor::probe_listen_address() {
  std::string error;
  const std::string address = listen_address(config_);
  net::Listener probe(&loop_, [](net::TcpStream&) {});
  if (probe.listen(address, 1, error) != 0) {
    SB_LOG_ERROR("cannot listen on %s: %s", address.c_str(), error.c_str());
    return false;
  }
  probe.close();
  return true;  // the destructor lets libuv release the probe's handles
}

// keep_sessions: a keeper per worker index, before the workers, which it outlives
// (app/keeper/keeper.hpp). A keeper that cannot start leaves its slot unkept.
void Supervisor::start_keepers() {
  for (auto& slot : slots_) {
    auto keeper = std::make_unique<KeeperProcess>(&loop_, slot->index,
                                                  static_cast<std::uint32_t>(slots_.size()));
    std::string error;
    if (!keeper->start(std::string(log_level_name(config_.log_level)), config_.log_file,
                       config_.state_dir, error)) {
      SB_LOG_ERROR("worker %u's sessions will not outlive it: %s", slot->index, error.c_str());
    }
    keepers_.push_back(std::move(keeper));
  }
}

void Supervisor::spawn(Slot& slot) {
  slot.started_ms = uv_now(&loop_);
  auto* incarnation = new Incarnation;
  incarnation->slot = &slot;
  uv_pipe_init(&loop_, &incarnation->pipe, 1);  // ipc: sockets travel on it
  incarnation->pipe.data = incarnation;
  incarnation->process.data = incarnation;

  const bool taking_over = slot.upgrade_fd >= 0;
  const int keeper_fd = slot.index < keepers_.size() ? keepers_[slot.index]->worker_fd() : -1;
  const std::vector<std::string> args =
      worker_arguments(program_, config_, slot.index, board_ != nullptr, metrics_board_ != nullptr,
                       taking_over, keeper_fd >= 0);
  std::vector<char*> argv;
  for (const std::string& arg : args) argv.push_back(const_cast<char*>(arg.c_str()));
  argv.push_back(nullptr);

  uv_stdio_container_t stdio[1 + kWorkerKeeperFd];
  for (int fd = 0; fd < kWorkerIpcFd; ++fd) {  // stdin, stdout, stderr: ours
    stdio[fd].flags = UV_INHERIT_FD;
    stdio[fd].data.fd = fd;
  }
  stdio[kWorkerIpcFd].flags =
      static_cast<uv_stdio_flags>(UV_CREATE_PIPE | UV_READABLE_PIPE | UV_WRITABLE_PIPE);
  stdio[kWorkerIpcFd].data.stream = reinterpret_cast<uv_stream_t*>(&incarnation->pipe);
  stdio[kWorkerBoardFd].flags = board_ ? UV_INHERIT_FD : UV_IGNORE;
  stdio[kWorkerBoardFd].data.fd = board_ ? board_->fd() : -1;
  stdio[kWorkerMetricsFd].flags = metrics_board_ ? UV_INHERIT_FD : UV_IGNORE;
  stdio[kWorkerMetricsFd].data.fd = metrics_board_ ? metrics_board_->fd() : -1;
  stdio[kWorkerUpgradeFd].flags = taking_over ? UV_INHERIT_FD : UV_IGNORE;
  stdio[kWorkerUpgradeFd].data.fd = slot.upgrade_fd;
  stdio[kWorkerKeeperFd].flags = keeper_fd >= 0 ? UV_INHERIT_FD : UV_IGNORE;
  stdio[kWorkerKeeperFd].data.fd = keeper_fd;

  uv_process_options_t options{};
  options.exit_cb = &Supervisor::on_exit;
  // The binary we are, even if its file was replaced or removed since we started.
  options.file = "/proc/self/exe";
  options.args = argv.data();
  options.stdio = stdio;
  options.stdio_count = keeper_fd >= 0 ? 1 + kWorkerKeeperFd
                        : taking_over  ? 1 + kWorkerUpgradeFd
                                       : 1 + kWorkerMetricsFd;

  const int rc = uv_spawn(&loop_, &incarnation->process, &options);
  if (taking_over) {  // the first process of the slot only: a restart starts afresh
    ::close(slot.upgrade_fd);
    slot.upgrade_fd = -1;
    slot.taking_over = rc == 0;
    if (rc != 0) worker_lost_in_takeover(slot);
  }
  incarnation->open_handles = 2;  // on Unix the process handle is initialized even on failure
  if (rc != 0) {
    SB_LOG_ERROR("cannot start worker %u: %s", slot.index, uv_strerror(rc));
    close_incarnation(incarnation);
    schedule_restart(slot);
    return;
  }
  incarnation->pid = incarnation->process.pid;
  slot.current = incarnation;
  slot.listening = false;
  slot.generation = generation_;  // its arguments carry the configuration of now
  slot.hang_timeout_s = config_.worker_hang_timeout;
  ++running_;
  SB_LOG_INFO("worker %u started (pid %d)", slot.index, incarnation->pid);
  relay_->attach(slot.index, &incarnation->pipe);
  // Its first message is due within the timeout, as any other; one taking over
  // beats only once its sessions are in (its first word, "upgraded", starts the watch).
  if (!slot.taking_over) watch_for_hang(slot);
}

void Supervisor::close_incarnation(Incarnation* incarnation) {
  auto on_closed = [](uv_handle_t* handle) {
    auto* self = static_cast<Incarnation*>(handle->data);
    if (--self->open_handles == 0) delete self;
  };
  incarnation->pipe.data = incarnation;  // the relay used it until detach()
  uv_close(reinterpret_cast<uv_handle_t*>(&incarnation->process), on_closed);
  uv_close(reinterpret_cast<uv_handle_t*>(&incarnation->pipe), on_closed);
}

void Supervisor::on_exit(uv_process_t* process, std::int64_t exit_status, int term_signal) {
  auto* incarnation = static_cast<Incarnation*>(process->data);
  Slot& slot = *incarnation->slot;
  Supervisor& self = *slot.owner;
  // A crash (an assertion, a bad access) is an error even while stopping: only
  // our own SIGKILL (a stop's second signal, the hang watch) and the operator's
  // SIGTERM/SIGINT end a worker by a signal otherwise.
  const bool crashed =
      term_signal != 0 && term_signal != SIGKILL && term_signal != SIGTERM && term_signal != SIGINT;
  const LogLevel level = crashed          ? LogLevel::kError
                         : self.stopping_ ? LogLevel::kInfo
                                          : LogLevel::kWarn;
  if (term_signal != 0) {
    SB_LOG(level, "worker %u (pid %d) killed by signal %d", slot.index, incarnation->pid,
           term_signal);
  } else {
    SB_LOG(level, "worker %u (pid %d) exited with status %lld", slot.index, incarnation->pid,
           static_cast<long long>(exit_status));
  }
  uv_timer_stop(&slot.hang_timer);
  self.relay_->detach(slot.index);
  if (self.board_) self.board_->forget(slot.index);
  // Before the index can start again: its counters stay in the sums. Handed
  // over, the slot is the new daemon's worker's, counting on.
  if (self.metrics_board_ && !self.handed_over_) self.metrics_board_->retire(slot.index);
  if (slot.taking_over) self.worker_lost_in_takeover(slot);
  if (!self.stopping_) ++(incarnation->hung ? self.restarts_hung_ : self.restarts_exited_);
  close_incarnation(incarnation);
  slot.current = nullptr;
  slot.listening = false;
  --self.running_;
  if (self.reloading_) self.finish_reload_if_done(false);  // one worker less to wait for
  if (self.stopping_) {
    self.finish_if_done();
  } else {
    self.schedule_restart(slot);
  }
}

void Supervisor::schedule_restart(Slot& slot) {
  if (stopping_) return;
  if (uv_now(&loop_) - slot.started_ms >= kStableMs) slot.backoff_ms = kFirstBackoffMs;
  const std::uint64_t delay = slot.backoff_ms;
  slot.backoff_ms = std::min(slot.backoff_ms * 2, kMaxBackoffMs);
  SB_LOG_INFO("restarting worker %u in %llu ms", slot.index,
              static_cast<unsigned long long>(delay));
  uv_timer_start(&slot.restart_timer, &Supervisor::on_restart_timer, delay, 0);
}

// (Re)starts the slot's hang timer for a full worker_hang_timeout from now; with
// the watch off, or while stopping, it only stops it.
void Supervisor::watch_for_hang(Slot& slot) {
  if (stopping_ || slot.current == nullptr || slot.hang_timeout_s == 0) {
    uv_timer_stop(&slot.hang_timer);
    return;
  }
  const std::uint64_t timeout_ms = std::uint64_t{slot.hang_timeout_s} * 1000;
  slot.hang_due_ms = uv_now(&loop_) + timeout_ms;
  uv_timer_start(&slot.hang_timer, &Supervisor::on_hang_timer, timeout_ms, 0);
}

void Supervisor::on_hang_timer(uv_timer_t* timer) {
  Slot& slot = *static_cast<Slot*>(timer->data);
  Supervisor& self = *slot.owner;
  Incarnation* incarnation = slot.current;
  if (self.stopping_ || incarnation == nullptr || incarnation->hung) return;
  // libuv runs expired timers before it reads the pipes: a supervisor that was
  // itself held up (SIGSTOP, a paused VM) past the timeout finds its hang timers
  // expired while the heartbeats still wait unread. A timer that fires more than
  // a beat interval late says so: the worker gets a new timeout from now, in
  // which the loop reads what it sent.
  const std::uint64_t late = uv_now(&self.loop_) - std::min(uv_now(&self.loop_), slot.hang_due_ms);
  if (late > Heartbeat::interval_ms(slot.hang_timeout_s)) {
    SB_LOG_WARN(
        "worker %u: hang timer ran %llu ms late (the supervisor itself was held up); "
        "a new timeout from now",
        slot.index, static_cast<unsigned long long>(late));
    self.watch_for_hang(slot);
    return;
  }
  // Silence counts only once the pipe has been read: the beats may be waiting in
  // it (this loop was busy with other pipes), and a pipe this process is not
  // reading proves nothing about the worker. Any message read re-arms the watch.
  const std::uint64_t due = slot.hang_due_ms;
  if (!self.relay_->read_now(slot.index)) {
    SB_LOG_WARN(
        "worker %u: its pipe is not being read, so its silence proves nothing; "
        "a new timeout from now",
        slot.index);
    self.watch_for_hang(slot);
    return;
  }
  if (slot.hang_due_ms != due || slot.current != incarnation) return;  // it had beaten
  if (self.relay_->has_unread(slot.index)) {  // more than one read's worth waits: not silent
    self.watch_for_hang(slot);
    return;
  }
  SB_LOG_ERROR("worker %u (pid %d) hung: no heartbeat for %u s; killing it with SIGKILL",
               slot.index, incarnation->pid, slot.hang_timeout_s);
  incarnation->hung = true;
  // Its exit, reaped as any other, restarts it (on_exit). An error here means the
  // process has exited already and is only waiting to be reaped.
  if (const int rc = uv_process_kill(&incarnation->process, SIGKILL); rc != 0) {
    SB_LOG_WARN("worker %u (pid %d): SIGKILL failed: %s", slot.index, incarnation->pid,
                uv_strerror(rc));
  }
}

void Supervisor::on_restart_timer(uv_timer_t* timer) {
  Slot& slot = *static_cast<Slot*>(timer->data);
  if (!slot.owner->stopping_ && slot.current == nullptr) slot.owner->spawn(slot);
}

void Supervisor::on_signal(uv_signal_t* handle, int signum) {
  auto& self = *static_cast<Supervisor*>(handle->data);
  if (!self.stopping_) {
    SB_LOG_INFO("signal %d: stopping %u workers", signum, self.running_);
    self.begin_stop(signum);
    return;
  }
  if (!self.killed_) {
    SB_LOG_WARN("second signal %d: killing %u workers now", signum, self.running_);
    self.kill_all(SIGKILL);
  }
}

void Supervisor::begin_stop(int signum) {
  if (upgrade_) upgrade_->abandon("this daemon is stopping");
  notify_stopping();
  stopping_ = true;
  if (metrics_server_) metrics_server_->close();
  if (agent_server_) agent_server_->close();
  reloading_ = false;
  uv_timer_stop(&reload_timer_);
  relay_->close_all();
  for (auto& slot : slots_) {
    uv_timer_stop(&slot->restart_timer);
    uv_timer_stop(&slot->hang_timer);
  }
  kill_all(signum);
  uv_timer_start(&stop_timer_, &Supervisor::on_stop_timeout, kStopTimeoutMs, 0);
  finish_if_done();
}

void Supervisor::on_stop_timeout(uv_timer_t* timer) {
  auto& self = *static_cast<Supervisor*>(timer->data);
  SB_LOG_WARN("%u workers still running after %llu ms: killing them", self.running_,
              static_cast<unsigned long long>(kStopTimeoutMs));
  self.kill_all(SIGKILL);
}

void Supervisor::kill_all(int signum) {
  if (signum == SIGKILL) killed_ = true;
  for (auto& slot : slots_) {
    // An exited process not yet reaped answers ESRCH; nothing to do then.
    if (slot->current != nullptr) uv_process_kill(&slot->current->process, signum);
  }
}

// Once every worker has exited, closing our own handles lets the loop end.
void Supervisor::finish_if_done() {
  if (running_ > 0 || finished_) return;
  finished_ = true;
  if (takeover_polling_) {
    takeover_polling_ = false;
    uv_close(reinterpret_cast<uv_handle_t*>(&takeover_poll_), nullptr);
  }
  relay_->close_all();
  if (context_) context_->stop_ticking();
  uv_close(reinterpret_cast<uv_handle_t*>(&sigterm_), nullptr);
  uv_close(reinterpret_cast<uv_handle_t*>(&sigint_), nullptr);
  uv_close(reinterpret_cast<uv_handle_t*>(&sighup_), nullptr);
  uv_close(reinterpret_cast<uv_handle_t*>(&sigusr1_), nullptr);
  uv_close(reinterpret_cast<uv_handle_t*>(&sigusr2_), nullptr);
  uv_close(reinterpret_cast<uv_handle_t*>(&stop_timer_), nullptr);
  uv_close(reinterpret_cast<uv_handle_t*>(&reload_timer_), nullptr);
  watchdog_.stop();
  for (auto& keeper : keepers_) keeper->stop();  // what they held ended with the workers
  for (auto& slot : slots_) {
    uv_close(reinterpret_cast<uv_handle_t*>(&slot->restart_timer), nullptr);
    uv_close(reinterpret_cast<uv_handle_t*>(&slot->hang_timer), nullptr);
  }
}

}  // namespace sb::app
