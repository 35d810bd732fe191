// Supervisor: the parent process when `workers` is more than 1
// (docs/architecture.md, "Processes"). With workers = 1 there is no supervisor: main() runs the one
// Worker in its own process, as cheap and simple as it gets.
//
// It starts N worker processes: this same binary (/proc/self/exe) with a hidden
// `--worker-index I` and the supervisor's configuration (worker_launch.hpp), each
// with an IPC pipe on fd 3 (libuv UV_CREATE_PIPE, ipc). Every worker listens on
// the configured address itself (SO_REUSEPORT): the kernel spreads connections
// over them, and the supervisor never touches a client byte except to relay a
// handed-over socket to its owner (handover_relay.hpp).
//
// A worker that dies is started again under the same index, after a back-off that
// doubles from 100 ms to 10 s while it keeps dying young (reset once it has lived
// 10 s). Only its sessions ended; the others' go on undisturbed.
//
// SIGTERM or SIGINT: forwarded to every worker, whose graceful shutdown ends its
// sessions with system-shutdown; the supervisor waits for all of them, kills what
// is left after kStopTimeoutMs with SIGKILL and exits when every worker is gone. A
// second signal kills the workers at once.
//
// It also owns the ListenBoard (listen_board.hpp), the shared page on which
// workers count their open listeners, handed to each as fd 4; when a worker exits
// the supervisor takes it off the board.
//
// Per worker the supervisor keeps one slot (a process handle, a pipe, a restart
// timer that runs only while that worker is down): nothing it does per request or
// per hand-over looks at the other workers.
//
// With metrics_listen set it also owns the MetricsBoard (metrics_board.hpp),
// handed to each worker as fd 5, and serves /metrics from it (metrics_server.hpp):
// a worker that exits has its counters folded into the board's retired slot
// before its index starts again, so the sums never go down.
//
// Hung workers: a worker whose process is there but whose loop no longer turns
// (an endless loop, a deadlock, SIGSTOP) would hold its sessions stalled forever
// while its SO_REUSEPORT listener keeps taking connections nobody serves. Each
// worker sends a heartbeat up its pipe every worker_hang_timeout / 4
// (heartbeat.hpp); any message from it counts. One timer per slot, pushed back by
// each message, fires when a worker has been silent for worker_hang_timeout: the
// supervisor logs it as an error, kills the process with SIGKILL and lets the
// exit take the ordinary restart path; the restart is counted with reason "hung"
// (the others "exited"). 0 turns the watch off; a reload changes it for each
// running worker once that worker has applied it (and beats at the new rate). The watch is off while the daemon stops (the
// stop has its own deadline, kStopTimeoutMs). A hang timer that fires more than a
// beat interval late means the supervisor itself was held up, not the worker:
// the worker then gets a new timeout, in which its waiting heartbeats are read.
//
// The systemd watchdog (notify.hpp) is fed from a timer of the supervisor's own
// loop, so it tells systemd about the supervisor alone; the workers' hangs are
// this watch's business.
//
// SIGUSR2: an upgrade in place (supervisor_succession.cpp, SupervisorUpgrade):
// the binary at the daemon's path starts as a new supervisor beside this one,
// each of its workers takes the sessions and listener of the same index here,
// and once every one holds its records this daemon's workers let go and end,
// systemd is told the new main PID, and this supervisor exits. A supervisor
// started so (set_upgrade_taker) takes the metrics board over, starts each worker
// with its channel to the old one, and writes the pid file and the outcome line
// once every worker has taken over and the old supervisor has said commit.
//
// Workers also shut down by themselves when the supervisor's end of their pipe
// closes, so even a supervisor killed with SIGKILL leaves no worker behind.
//
// SIGHUP reloads (config_reload.hpp): the supervisor re-reads the file, lays the
// command-line values over it and checks it as a start would. A bad file is
// refused, with every problem logged, and nothing changes. A good one becomes the
// configuration (restart-only keys keep their running values) and goes to every
// running worker as a "config" control message on its pipe; each applies it and
// answers "applied". The reload is done when every worker has answered (or after
// kReloadTimeoutMs); a worker restarted later starts with it. SIGUSR1 reopens
// the log file here and in every worker that is up (logrotate).
#pragma once

#include <uv.h>

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "app/config/cli.hpp"
#include "app/config/config.hpp"
#include "app/handover/handover_relay.hpp"
#include "app/keeper/keeper_process.hpp"
#include "app/metrics/agent_server.hpp"
#include "app/metrics/metrics_board.hpp"
#include "app/metrics/metrics_server.hpp"
#include "app/process/listen_board.hpp"
#include "app/process/notify.hpp"
#include "app/upgrade/supervisor_upgrade.hpp"
#include "app/upgrade/upgrade_taker.hpp"
#include "net/loop_context.hpp"

namespace sb::app {

class Supervisor {
 public:
  static constexpr std::uint64_t kFirstBackoffMs = 100;
  static constexpr std::uint64_t kMaxBackoffMs = 10000;
  static constexpr std::uint64_t kStableMs = 10000;  // a worker this old died of age, not of birth
  static constexpr std::uint64_t kStopTimeoutMs = 10000;    // graceful shutdown, then SIGKILL
  static constexpr std::uint64_t kReloadTimeoutMs = 10000;  // for every worker to apply a reload

  // `config.workers` must be resolved (not 0). `program` becomes the workers'
  // argv[0], for ps and logs.
  // `metrics_fd` >= 0: the metrics board an upgrade in place handed over, to
  // count on (else one is made when metrics_listen is set).
  Supervisor(const Config& config, std::string program, int metrics_fd = -1);
  Supervisor(const Supervisor&) = delete;
  Supervisor& operator=(const Supervisor&) = delete;
  ~Supervisor();

  // SIGHUP re-reads `path` and lays `overrides` over it, as the start did.
  void set_reload_source(std::string path, std::vector<Override> overrides);

  // SIGUSR2 runs `exe` with `args` to take this daemon's place. Without a call,
  // SIGUSR2 is refused with a log line.
  void set_upgrade_source(std::string exe, std::vector<std::string> args);
  // This daemon takes over from the one that started it: `taker` has read its
  // kStart (the board and one channel per worker index, as many as `workers`).
  void set_upgrade_taker(UpgradeTaker* taker) { taker_ = taker; }

  // Starts the workers and runs until they are all gone after a signal. Returns the
  // process exit code: 1 if the listen address is unusable or a take-over failed,
  // else 0.
  int run();

 private:
  struct Slot;
  struct Incarnation;

  bool probe_listen_address();
  void start_keepers();
  void spawn(Slot& slot);
  void schedule_restart(Slot& slot);
  void watch_for_hang(Slot& slot);
  static void on_hang_timer(uv_timer_t* timer);
  void begin_stop(int signum);
  void kill_all(int signum);
  void finish_if_done();
  static void close_incarnation(Incarnation* incarnation);
  static void on_exit(uv_process_t* process, std::int64_t exit_status, int term_signal);
  static void on_restart_timer(uv_timer_t* timer);
  static void on_signal(uv_signal_t* handle, int signum);
  static void on_stop_timeout(uv_timer_t* timer);
  static void on_reload_signal(uv_signal_t* handle, int signum);
  static void on_reload_timeout(uv_timer_t* timer);
  void on_control(std::uint32_t index, const ControlMessage& message);
  void reload();
  void finish_reload_if_done(bool timed_out);
  void reopen_logs();
  std::string ready_status() const;
  // Upgrades in place (supervisor_succession.cpp).
  void begin_upgrade();
  void upgrade_done(const SupervisorUpgrade::Outcome& outcome);
  void retire();
  void start_takeover();
  static void on_takeover_readable(uv_poll_t* poll, int status, int events);
  void worker_took_over(Slot& slot, const ControlMessage& message);
  void worker_lost_in_takeover(Slot& slot);
  void fail_takeover(const std::string& why);
  void finish_takeover_if_done();

  Config config_;  // what workers run (and start with); changed by reloads
  std::string config_path_;
  std::vector<Override> overrides_;
  std::uint64_t generation_ = 0;  // counts accepted reloads
  bool reloading_ = false;        // waiting for workers to apply generation_
  bool all_listening_logged_ = false;
  std::string program_;
  uv_loop_t loop_{};
  std::vector<std::unique_ptr<Slot>> slots_;
  // keep_sessions: one keeper per slot, by index (app/keeper/keeper_process.hpp).
  std::vector<std::unique_ptr<KeeperProcess>> keepers_;
  std::unique_ptr<HandoverRelay> relay_;
  std::unique_ptr<ListenBoard> board_;             // null if it could not be made
  std::unique_ptr<MetricsBoard> metrics_board_;    // metrics_listen or agent_listen
  std::unique_ptr<net::LoopContext> context_;      // for the metrics connections
  std::unique_ptr<MetricsServer> metrics_server_;  // metrics_listen only
  std::unique_ptr<AgentServer> agent_server_;      // agent_listen only
  std::uint64_t restarts_exited_ = 0;              // workers that exited or died unasked
  std::uint64_t restarts_hung_ = 0;                // workers killed for missing their heartbeats
  uv_signal_t sigterm_{};
  uv_signal_t sigint_{};
  uv_signal_t sighup_{};
  uv_signal_t sigusr1_{};
  uv_signal_t sigusr2_{};  // an upgrade in place: refused with workers > 1
  uv_timer_t stop_timer_{};
  uv_timer_t reload_timer_{};
  Watchdog watchdog_;
  std::uint32_t running_ = 0;  // worker processes started and not yet exited
  bool stopping_ = false;
  bool killed_ = false;  // SIGKILL was sent
  bool finished_ = false;
  int exit_status_ = 0;
  // Giving this daemon's place to a new one (SIGUSR2).
  std::string upgrade_exe_;
  std::vector<std::string> upgrade_args_;
  std::unique_ptr<SupervisorUpgrade> upgrade_;
  bool handed_over_ = false;  // committed: the workers end, the board is the new daemon's
  // Taking over from an old daemon (a start with a taker).
  UpgradeTaker* taker_ = nullptr;
  bool taking_over_ = false;
  bool commit_heard_ = false;
  uv_poll_t takeover_poll_{};
  bool takeover_polling_ = false;
  std::uint32_t took_over_ = 0;  // workers that said "upgraded" (or died trying)
  UpgradeTally takeover_tally_;
};

}  // namespace sb::app
