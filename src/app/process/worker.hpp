// Worker: one process, one libuv loop, its own sessions. It owns the listener,
// the HTTP router (BOSH endpoint, demo page), the session table and the upstream
// connector, and it handles the signals that end it.
//
// It runs alone (workers = 1: the whole daemon is this one process) or as one of
// several processes under a supervisor (supervisor.hpp). Then it also holds the
// IPC pipe to the supervisor (handover.hpp): requests for another worker's
// sessions leave with their connection, connections for this worker's sessions
// arrive, and the pipe's end means the supervisor is gone.
//
// Near its file-descriptor limit the worker stops taking new sessions, and gives
// its share of new connections to the other workers by closing its listener
// (admission.hpp); it opens it again once sessions have ended.
//
// Metrics: the worker counts into its slot of the MetricsBoard the supervisor
// shares (metrics_board.hpp), and samples its gauges into it once a second. A
// worker running alone with metrics_listen set makes the board itself and serves
// /metrics too (metrics_server.hpp).
//
// Reload (SIGHUP when alone; a "config" control message from the supervisor when
// supervised, config_reload.hpp): the live keys take effect at once for what
// happens next (new sessions, new requests, new upstream links); established
// sessions keep what they negotiated. SIGUSR1 reopens the log file (logrotate).
// A supervised worker ignores a SIGHUP of its own: the supervisor reloads.
//
// Supervised, it also sends the supervisor a heartbeat from its loop every
// worker_hang_timeout / 4 (heartbeat.hpp), so that a worker whose loop stopped
// turning is noticed, killed and started again.
//
// Shutdown (SIGTERM or SIGINT, or the supervisor's pipe closing): stop accepting,
// end every session with system-shutdown (held requests are answered, upstream
// streams are closed with </stream:stream>), give responses and stream closes a
// moment to flush, close every socket and leave the loop. Alone, a second signal
// exits at once. Supervised, repeated signals are ignored: Ctrl-C or systemd
// signal the whole process group, and the supervisor forwards its own signal as
// well, so a worker commonly gets two; escalating is the supervisor's job.
#pragma once

#include <uv.h>

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "app/config/cli.hpp"
#include "app/config/config.hpp"
#include "app/front/client_address.hpp"
#include "app/front/host_meta.hpp"
#include "app/front/http_socket.hpp"
#include "app/front/ws_endpoint.hpp"
#include "app/handover/handover.hpp"
#include "app/keeper/session_keeper.hpp"
#include "app/metrics/agent_server.hpp"
#include "app/metrics/metrics_board.hpp"
#include "app/metrics/metrics_recorder.hpp"
#include "app/metrics/metrics_server.hpp"
#include "app/process/admission.hpp"
#include "app/process/heap_trim.hpp"
#include "app/process/heartbeat.hpp"
#include "app/process/listen_board.hpp"
#include "app/process/login_pacer.hpp"
#include "app/process/notify.hpp"
#include "app/upgrade/successor_link.hpp"
#include "app/upgrade/upgrade_giver.hpp"
#include "app/upgrade/upgrade_taker.hpp"
#include "bosh/endpoint.hpp"
#include "bosh/session_table.hpp"
#include "bosh/settings.hpp"
#include "engine/session_counts.hpp"
#include "http/cors.hpp"
#include "http/limits.hpp"
#include "http/router.hpp"
#include "http/static_files.hpp"
#include "net/listener.hpp"
#include "net/loop_context.hpp"
#include "net/source_pool.hpp"
#include "net/tls_server_context.hpp"
#include "xmpp/upstream_connector.hpp"

namespace sb::app {

class Worker {
 public:
  // `ipc_fd` >= 0: supervised, with the IPC pipe to the supervisor on that fd;
  // `board_fd` >= 0: the supervisor's ListenBoard is on that fd; `metrics_fd` >= 0:
  // the supervisor's MetricsBoard is.
  Worker(const Config& config, int index, int ipc_fd = -1, int board_fd = -1, int metrics_fd = -1);
  Worker(const Worker&) = delete;
  Worker& operator=(const Worker&) = delete;
  ~Worker();

  // Alone (no supervisor): SIGHUP re-reads `path` and lays `overrides` over it,
  // as the start did. Without a call, SIGHUP re-checks the command line only.
  void set_reload_source(std::string path, std::vector<Override> overrides);

  // Alone: SIGUSR2 runs `exe` with `args` to take this daemon's place (an
  // upgrade in place, app/upgrade/upgrade_giver.hpp). Without a call, SIGUSR2
  // is refused with a log line.
  void set_upgrade_source(std::string exe, std::vector<std::string> args);
  // This daemon takes over from the one that started it (upgrade_taker.hpp):
  // its listeners come from `taker`, and its sessions before the loop runs.
  void set_upgrade_taker(UpgradeTaker* taker) { taker_ = taker; }
  // Supervised with keep_sessions: `fd` is this slot's keeper's socket
  // (app/keeper/session_keeper.hpp). The sessions it holds are taken up before
  // the loop runs, and every change is sent to it from then on.
  void set_keeper_fd(int fd) { keeper_fd_ = fd; }

  // Listens and runs the loop until shutdown. Returns the process exit code.
  int run();

  // Loads new HTTPS certificate and key files for connections accepted from now
  // on; open ones keep theirs. The reason on failure (nothing changes then).
  std::optional<std::string> reload_tls_certificate(const std::string& cert_file,
                                                    const std::string& key_file);
  // Runs `next` from now on (its live keys; see config_reload.hpp). `next` must be
  // valid and agree with the running configuration on every restart-only key.
  void apply_config(const Config& next);

 private:
  // Construction, in order (worker.cpp).
  void build_engine(const Config& config);
  void build_routes(const Config& config);
  void build_front(const Config& config);
  void build_handover(const Config& config);
  // run()'s steps (worker.cpp).
  bool open_listeners(std::string& error);
  int stop_before_start(const std::string& error);
  void start_admission();
  bool start_handles(std::string& error);
  void announce();
  // Reloads (worker_reload.cpp).
  void reload_from_file();
  void reload_file();
  void on_control(const ControlMessage& message);
  // Upgrades in place (worker_upgrade.cpp).
  static void on_upgrade_signal(uv_signal_t* handle, int signum);
  void begin_upgrade();
  void begin_supervised_upgrade(int gate_fd);
  UpgradeSource upgrade_source();
  void adopt_handed_over(net::TcpStream& stream, std::string_view request, std::string_view peer,
                         bool tls_relayed);
  void watch_for_forwards();
  static void on_forward(uv_poll_t* poll, int status, int events);
  static void on_pass_timer(uv_timer_t* timer);
  bool take_forward();
  UpgradeTaker::Parts upgrade_parts();
  void stop_watching_forwards();
  void stop_passing_on();
  void upgrade_done(const UpgradeOutcome& outcome);
  int listen_on(net::Listener& listener, const char* role, const std::string& address,
                std::string& error);
  bool take_over(std::string& error);
  void recover_kept_sessions();
  // The orderly end (worker_shutdown.cpp).
  void begin_shutdown();
  void finish_shutdown();
  void log_cut_connections();
  static void on_signal(uv_signal_t* handle, int signum);
  static void on_reload_signal(uv_signal_t* handle, int signum);
  static void on_check(uv_check_t* handle);
  static void on_shutdown_timer(uv_timer_t* handle);
  static void on_sample_timer(uv_timer_t* handle);
  void sample_metrics();

  Config config_;            // what runs now; changed by reloads
  std::string start_error_;  // set when the constructor could not make the loop
  bool loop_ready_ = false;
  std::string reload_path_;
  std::vector<Override> reload_overrides_;
  uv_loop_t loop_{};
  std::unique_ptr<net::LoopContext> context_;
  bosh::EngineSettings settings_;
  engine::SessionCounts counts_{settings_};  // both transports' sessions, for the caps
  http::ConnectionLimits limits_;
  http::CorsPolicy cors_;
  std::unique_ptr<net::SourcePool> sources_;  // upstream_source_addresses, if any
  xmpp::LinkSettings link_settings_;
  std::unique_ptr<MetricsBoard> metrics_board_;  // the supervisor's, or our own when alone
  MetricsRecorder recorder_;
  std::unique_ptr<LoginPacer>
      pacer_;  // overload control; the links' observer, passing on to recorder_
  std::unique_ptr<TrustedProxies> trusted_;  // trusted_proxies, if set
  std::unique_ptr<xmpp::UpstreamConnector> upstreams_;
  std::unique_ptr<bosh::SessionTable> sessions_;
  std::unique_ptr<bosh::Endpoint> endpoint_;
  std::unique_ptr<WsEndpoint> websocket_;  // null when websocket_path is empty
  std::unique_ptr<HostMeta> host_meta_;
  std::unique_ptr<http::Router> router_;
  std::unique_ptr<http::StaticFiles> demo_;
  HttpSocketList sockets_;
  std::unique_ptr<HttpSocket::Shared> shared_;
  std::unique_ptr<net::Listener> listener_;
  // tls_listen: the HTTPS listener and its context (null without tls_listen), and
  // the ticket keys its contexts use (null too with tls_ticket_rotation = 0).
  // Declared first: every context, old ones kept by open connections included,
  // points to the ring.
  std::unique_ptr<net::TicketKeyRing> tickets_;
  std::unique_ptr<net::TlsServerContext> tls_context_;
  std::unique_ptr<net::Listener> tls_listener_;
  std::string tls_error_;                 // why tls_context_ could not be made; run() reports it
  std::unique_ptr<Handover> handover_;    // supervised only
  std::unique_ptr<Heartbeat> heartbeat_;  // supervised only, from run() on
  std::unique_ptr<ListenBoard> board_;    // supervised only, if the supervisor made one
  std::unique_ptr<Admission> admission_;
  std::unique_ptr<HeapTrimmer> trimmer_;           // malloc_trim once a burst of sessions settles
  std::unique_ptr<MetricsServer> metrics_server_;  // alone with metrics_listen only
  std::unique_ptr<AgentServer> agent_server_;      // alone with agent_listen only
  std::uint64_t fd_limit_ = 0;
  int index_;
  int ipc_fd_;
  uv_check_t collector_{};
  uv_signal_t sigterm_{};
  uv_signal_t sigint_{};
  uv_signal_t sighup_{};
  uv_signal_t sigusr1_{};
  uv_signal_t sigusr2_{};
  std::string upgrade_exe_;  // empty: SIGUSR2 is refused
  std::vector<std::string> upgrade_args_;
  std::unique_ptr<UpgradeGiver> upgrade_;  // the last upgrade, kept until its handles closed
  UpgradeTaker* taker_ = nullptr;
  int keeper_fd_ = -1;
  std::unique_ptr<SessionKeeper> keeper_;  // keep_sessions, supervised
  // An upgrade in place: the old worker, once its sessions have moved, passes on
  // the client connections still here (successor_); the new one takes them from
  // its taker's channel (forward_poll_).
  std::unique_ptr<SuccessorLink> successor_;
  uv_timer_t pass_timer_{};  // passes idle connections on while successor_ lives
  uv_poll_t forward_poll_{};
  bool forward_polling_ = false;
  uv_timer_t shutdown_timer_{};
  uv_timer_t sample_timer_{};
  Watchdog watchdog_;       // alone only: the supervisor pings for its workers
  int shutdown_phase_ = 0;  // 0 running, 1 draining, 2 closing sockets
};

}  // namespace sb::app
