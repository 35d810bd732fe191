// The worker process: its layers built from the Config, its start (listeners,
// admission, handles) and its loop; the metrics sampler. Reloads are in
// worker_reload.cpp, the orderly end in worker_shutdown.cpp. See worker.hpp.
#include "app/process/worker.hpp"

#include <unistd.h>
#include <algorithm>
#include <csignal>
#include <cstdlib>

#include "app/log/log.hpp"
#include "app/metrics/process_stats.hpp"  // count_open_fds
#include "app/process/engine_settings.hpp"
#include "app/process/worker_launch.hpp"
#include "app/upgrade/pid_file.hpp"
#include "net/tls_server_stream.hpp"

namespace sb::app {
namespace {
constexpr std::uint64_t kSampleMs = 1000;  // gauges into the metrics slot
// How long a worker that took sessions over waits for its keeper to have them all.
constexpr int kTakeOverFlushMs = 2000;

// The supervisor's board on `fd`, or (alone, with metrics_listen or
// agent_listen) our own.
std::unique_ptr<MetricsBoard> open_metrics_board(const Config& config, int fd) {
  std::string error;
  std::unique_ptr<MetricsBoard> board;
  const bool alone_serving = wants_metrics_board(config) && config.workers == 1;
  if (fd >= 0) {
    board = MetricsBoard::attach(fd, config.workers, error);
    if (!board) ::close(fd);
    if (!board && alone_serving) {
      // The board an old daemon handed over (an upgrade in place) has another
      // layout: counting starts again on our own (Prometheus sees a reset).
      SB_LOG_WARN("%s: counters start again from zero", error.c_str());
      error.clear();
    }
  }
  if (!board && alone_serving) board = MetricsBoard::create(1, error);
  if (!board && !error.empty())
    SB_LOG_WARN("%s: this worker's metrics are not shown", error.c_str());
  return board;
}

MetricsSlot* slot_of(const std::unique_ptr<MetricsBoard>& board, int index) {
  if (!board || index < 0 || static_cast<std::uint32_t>(index) >= board->workers()) return nullptr;
  return &board->slot(static_cast<std::uint32_t>(index));
}

// "what: reason" for a libuv call that failed with `rc`; empty if it did not.
std::string uv_failure(const char* what, int rc) {
  return rc == 0 ? std::string() : std::string(what) + ": " + uv_strerror(rc);
}
}  // namespace

Worker::Worker(const Config& config, int index, int ipc_fd, int board_fd, int metrics_fd)
    : config_(config),
      settings_(engine_settings(config, index)),
      limits_(connection_limits(config)),
      cors_(config.cors_origins),
      link_settings_(link_settings(config)),
      metrics_board_(open_metrics_board(config, metrics_fd)),
      recorder_(slot_of(metrics_board_, index)),
      index_(index),
      ipc_fd_(ipc_fd) {
  if (const int rc = uv_loop_init(&loop_); rc != 0) {
    // Nothing else can be built without a loop; run() reports it and exits.
    start_error_ = uv_failure("cannot make the event loop", rc);
    return;
  }
  loop_ready_ = true;
  context_ = std::make_unique<net::LoopContext>(&loop_);
  build_engine(config);
  build_routes(config);
  build_front(config);
  if (board_fd >= 0) {
    std::string error;
    board_ = ListenBoard::attach(board_fd, error);
    if (!board_) SB_LOG_WARN("%s: this worker keeps its listener open when full", error.c_str());
  }
  if (ipc_fd_ >= 0) build_handover(config);
}

// The engine: login pacing (the links' observer, passing on to the recorder),
// source addresses, the upstream connector, the session table and BOSH endpoint.
void Worker::build_engine(const Config& config) {
  pacer_ = std::make_unique<LoginPacer>(&loop_, login_pacer_settings(config), &recorder_);
  link_settings_.observer = pacer_.get();
  if (!config.upstream_source_addresses.empty()) {
    std::string error;  // the config was checked: parsing cannot fail here
    if (auto pool = net::SourcePool::parse(config.upstream_source_addresses, error)) {
      sources_ = std::make_unique<net::SourcePool>(std::move(*pool));
      link_settings_.sources = sources_.get();
      SB_LOG_INFO("upstream connections from %llu IPv4 and %llu IPv6 source addresses",
                  static_cast<unsigned long long>(sources_->count(AF_INET)),
                  static_cast<unsigned long long>(sources_->count(AF_INET6)));
    }
  }
  upstreams_ = std::make_unique<xmpp::UpstreamConnector>(&loop_, link_settings_);
  sessions_ = std::make_unique<bosh::SessionTable>(settings_, context_->timers(), counts_);
  sessions_->set_events(&recorder_);
  endpoint_ = std::make_unique<bosh::Endpoint>(*sessions_, *upstreams_);
}

// The router: BOSH, WebSocket (if websocket_path), host-meta, the demo page.
void Worker::build_routes(const Config& config) {
  cors_.set_refusal_hook([](std::string_view origin) {
    SB_LOG_WARN(
        "refused cross-origin requests from %.*s: not in cors_origins (add it there, "
        "or set cors_origins = [\"*\"] to allow any origin)",
        static_cast<int>(origin.size()), origin.data());
  });
  router_ = std::make_unique<http::Router>(cors_);
  router_->add(config.bosh_path, {http::Method::kPost, http::Method::kGet, http::Method::kHead},
               *endpoint_);
  if (!config.websocket_path.empty()) {
    websocket_ =
        std::make_unique<WsEndpoint>(&loop_,
                                     WsEngine{settings_, counts_, &recorder_, context_->timers(),
                                              *upstreams_, settings_.sid_prefix},
                                     cors_, config.max_stanza_bytes, ws_timeouts(config));
    websocket_->set_counted(&recorder_);
    router_->add(config.websocket_path, {http::Method::kGet}, *websocket_);
  }
  host_meta_ = std::make_unique<HostMeta>(HostMetaUrls{
      config.bosh_path, config.websocket_path, config.public_bosh_url, config.public_websocket_url,
      listen_address(config), tls_listen_address(config)});
  router_->add(HostMeta::kXrdPath, {http::Method::kGet}, *host_meta_);
  router_->add(HostMeta::kJrdPath, {http::Method::kGet}, *host_meta_);
  if (!config.demo_root.empty()) {
    demo_ = std::make_unique<http::StaticFiles>(config.demo_root);
    if (demo_->ok()) {
      demo_->mount(*router_);
    } else {
      SB_LOG_WARN("demo_root %s: %s", config.demo_root.c_str(), demo_->error().c_str());
    }
  }
}

// What the sockets share, and the listeners that make them: plain HTTP, and
// HTTPS with tls_listen (its context made here; a failure waits for run()).
void Worker::build_front(const Config& config) {
  if (!config.trusted_proxies.empty()) {
    std::string error;  // the config was checked: parsing cannot fail here
    if (auto trusted = TrustedProxies::parse(config.trusted_proxies, error)) {
      trusted_ = std::make_unique<TrustedProxies>(std::move(*trusted));
    }
  }
  shared_ = std::make_unique<HttpSocket::Shared>(
      HttpSocket::Shared{*router_, limits_, cors_, context_->timers(), sockets_});
  shared_->upgrades = websocket_.get();
  shared_->events = &recorder_;
  shared_->proxy_protocol = config.proxy_protocol;
  shared_->trusted = trusted_.get();
  listener_ = std::make_unique<net::Listener>(&loop_, [this](net::TcpStream& stream) {
    HttpSocket::adopt(stream, *shared_);
    admission_->check();  // may close the listener: it stops accepting at once
  });
  if (!config.tls_listen) return;
  // tls_ticket_rotation = 0: no ring, OpenSSL's own keys (this process only).
  if (config.tls_ticket_rotation > 0) {
    // Alone, this process makes the secret, and puts it in its environment: the
    // daemon an upgrade in place starts inherits it, so tickets keep resuming.
    if (ipc_fd_ < 0 && std::getenv(kTicketSecretEnv) == nullptr && !share_ticket_secret()) {
      tls_error_ = "cannot make the TLS session-ticket secret: the random generator failed";
    } else if (auto secret = ticket_secret_from_environment()) {
      tickets_ = std::make_unique<net::TicketKeyRing>(*secret, config.tls_ticket_rotation);
    } else {
      tls_error_ = std::string("malformed ") + kTicketSecretEnv + " in the environment";
    }
  }
  if (tls_error_.empty()) {
    tls_context_ = net::TlsServerContext::create(config.tls_cert_file, config.tls_key_file,
                                                 tickets_.get(), tls_error_);
  }
  tls_listener_ = std::make_unique<net::Listener>(&loop_, [this](net::TcpStream& stream) {
    // TLS first, so that the HTTP socket is the filter's handler (tcp_stream.hpp).
    net::TlsServerStream::attach(stream, tls_context_->native());
    HttpSocket::adopt(stream, *shared_);
    admission_->check();
  });
}

// Supervised: the pipe to the supervisor, for hand-overs and control messages;
// its end means the supervisor is gone.
void Worker::build_handover(const Config& config) {
  Handover::Identity identity{static_cast<std::uint32_t>(index_), config.workers, config.node_id};
  handover_ = std::make_unique<Handover>(
      &loop_, std::move(identity), *shared_,
      [this](net::TcpStream& stream, std::string_view request, std::string_view peer,
             bool tls_relayed) { adopt_handed_over(stream, request, peer, tls_relayed); },
      [this] {
        if (shutdown_phase_ > 0) return;
        SB_LOG_WARN("supervisor gone: shutting down %zu sessions", sessions_->size());
        begin_shutdown();
      });
  handover_->set_control_handler([this](const ControlMessage& message) { on_control(message); });
  handover_->set_gate_handler([this](int fd) { begin_supervised_upgrade(fd); });
  endpoint_->set_foreign_sid_router(handover_.get());
}

Worker::~Worker() {
  // Everything below was closed by run(); free in reverse order of creation.
  trimmer_.reset();
  agent_server_.reset();
  metrics_server_.reset();
  admission_.reset();
  listener_.reset();
  tls_listener_.reset();
  heartbeat_.reset();
  handover_.reset();
  if (endpoint_) endpoint_->set_lost_sids(nullptr);  // the keeper's
  keeper_.reset();                                   // it watches the session table
  sessions_.reset();
  context_.reset();
  if (loop_ready_) uv_loop_close(&loop_);
}

int Worker::run() {
  if (!start_error_.empty()) {
    SB_LOG_ERROR("%s", start_error_.c_str());
    return 1;
  }
  std::string error;
  if (!open_listeners(error)) return stop_before_start(error);
  start_admission();
  if (!start_handles(error)) return stop_before_start(error);
  if (taker_ != nullptr && !take_over(error)) return stop_before_start("upgrade: " + error);
  if (keeper_fd_ >= 0) recover_kept_sessions();
  // Sessions taken over in an upgrade go to this slot's keeper now, not at the
  // end of the first loop turn: until the keeper has them, a death of this
  // process would end them (docs/crash.md).
  if (taker_ != nullptr && keeper_ && !keeper_->flush_all(kTakeOverFlushMs)) {
    SB_LOG_WARN("upgrade: not every session taken over reached the keeper within %d ms",
                kTakeOverFlushMs);
  }
  announce();
  // What `switchboard upgrade` waits for, once the pid file names this process.
  // The old daemon started this one: it is the parent still. Supervised, the
  // supervisor adds up every worker's account and writes it.
  if (taker_ != nullptr && !handover_) {
    SB_LOG_INFO("%s", taker_->summary().c_str());
    write_upgrade_ok(config_.pid_file, getppid(), taker_->summary());
  } else if (taker_ != nullptr) {
    SB_LOG_INFO("upgrade: this worker took over %llu sessions (%llu ended)",
                static_cast<unsigned long long>(taker_->tally().moved),
                static_cast<unsigned long long>(taker_->tally().ended_total()));
    handover_->send_control("upgraded", taker_->tally().text());
  }
  // What stayed with the old daemon comes on as it can (successor_link.hpp).
  if (taker_ != nullptr) watch_for_forwards();
  uv_run(&loop_, UV_RUN_DEFAULT);

  // The loop is out of work: close what is left and let the close callbacks run.
  net::close_remaining_handles(&loop_);
  sockets_.collect();
  if (!handover_) remove_pid_file(config_.pid_file, getpid());
  SB_LOG_INFO("stopped");
  return 0;
}

// The pipe to the supervisor, then the listeners: plain, metrics and agent
// (alone, with metrics_listen or agent_listen), HTTPS. False with `error` at the first that fails.
bool Worker::open_listeners(std::string& error) {
  if (handover_ && handover_->open(ipc_fd_, error) != 0) return false;
  if (metrics_board_ && config_.metrics_listen && !handover_) {
    metrics_server_ = std::make_unique<MetricsServer>(
        &loop_, context_->timers(), *metrics_board_, limits_, [] { return DaemonFigures{}; }, true);
  }
  if (metrics_board_ && config_.agent_listen && !handover_) {
    // config_ at each check: a reload's max_sessions and drain count at once.
    agent_server_ = std::make_unique<AgentServer>(
        &loop_, [this] { return agent_figures(*metrics_board_, config_); });
  }
  const std::string address = listen_address(config_);
  if (listen_on(*listener_, "http", address, error) != 0) {
    error = "cannot listen on " + address + ": " + error;
    return false;
  }
  if (metrics_server_) {
    const std::string metrics_address = listen_address(*config_.metrics_listen);
    const int inherited = taker_ != nullptr ? taker_->take_socket("metrics", metrics_address) : -1;
    if ((inherited >= 0 ? metrics_server_->listen_inherited(inherited, metrics_address, error)
                        : metrics_server_->listen(metrics_address, error)) != 0) {
      error = "cannot listen for metrics on " + metrics_address + ": " + error;
      return false;
    }
  }
  if (agent_server_) {
    const std::string agent_address = listen_address(*config_.agent_listen);
    if (agent_server_->listen(agent_address, error) != 0) {
      error = "cannot listen for agent checks on " + agent_address + ": " + error;
      return false;
    }
  }
  if (tls_listener_) {
    if (!tls_context_) {
      error = "tls_listen: " + tls_error_;
      return false;
    }
    const std::string tls_address = tls_listen_address(config_);
    if (listen_on(*tls_listener_, "https", tls_address, error) != 0) {
      error = "cannot listen on " + tls_address + ": " + error;
      return false;
    }
  }
  return true;
}

// The one way out of a start that failed: say why, close whatever opened, run
// the close callbacks, exit status 1.
int Worker::stop_before_start(const std::string& error) {
  SB_LOG_ERROR("%s", error.c_str());
  listener_->close();
  if (tls_listener_) tls_listener_->close();
  if (metrics_server_) metrics_server_->close();
  if (agent_server_) agent_server_->close();
  if (handover_) handover_->close();
  uv_run(&loop_, UV_RUN_NOWAIT);  // runs the close callbacks
  return 1;
}

// Admission by descriptors and the session share, and the gates both endpoints
// ask before a new session (admission) and before a login (the pacer).
void Worker::start_admission() {
  Admission::Setup setup;
  fd_limit_ = raise_fd_limit();
  setup.budget = fd_budget(fd_limit_);
  setup.baseline_fds = count_open_fds();
  setup.max_sessions = worker_max_sessions(config_.max_sessions, config_.workers);
  setup.index = static_cast<std::uint32_t>(index_);
  admission_ =
      std::make_unique<Admission>(setup, *listener_, counts_, board_.get(), tls_listener_.get());
  admission_->listening();
  if (handover_) admission_->set_handover(handover_.get(), config_.workers);
  endpoint_->set_creation_gate(admission_.get());
  endpoint_->set_login_gate(pacer_.get());
  if (websocket_) {
    websocket_->set_creation_gate(admission_.get());
    websocket_->set_login_gate(pacer_.get());
  }
  SB_LOG_INFO(
      "fd limit %llu: no new sessions from %llu descriptors in use (about %llu sessions), "
      "again below %llu",
      static_cast<unsigned long long>(setup.budget.limit),
      static_cast<unsigned long long>(setup.budget.high),
      static_cast<unsigned long long>(
          (setup.budget.high - std::min(setup.budget.high, setup.baseline_fds)) / 2),
      static_cast<unsigned long long>(setup.budget.low));
  trimmer_ = std::make_unique<HeapTrimmer>(&loop_);
}

// The loop's own handles: the collector check, the signals, the shutdown and
// sampling timers. False with `error` if libuv refuses one.
bool Worker::start_handles(std::string& error) {
  context_->start_ticking();
  error = uv_failure("collector", uv_check_init(&loop_, &collector_));
  if (!error.empty()) return false;
  collector_.data = this;
  uv_check_start(&collector_, &Worker::on_check);
  uv_unref(reinterpret_cast<uv_handle_t*>(&collector_));
  const struct {
    uv_signal_t* handle;
    int signum;
    uv_signal_cb callback;
    bool keeps_loop;  // SIGHUP and SIGUSR1 give the loop no reason to live
  } signals[] = {{&sigterm_, SIGTERM, &Worker::on_signal, true},
                 {&sigint_, SIGINT, &Worker::on_signal, true},
                 {&sighup_, SIGHUP, &Worker::on_reload_signal, false},
                 {&sigusr1_, SIGUSR1, &Worker::on_reload_signal, false},
                 {&sigusr2_, SIGUSR2, &Worker::on_upgrade_signal, false}};
  for (const auto& sig : signals) {
    error = uv_failure("signal handler", uv_signal_init(&loop_, sig.handle));
    if (error.empty())
      error = uv_failure("signal handler", uv_signal_start(sig.handle, sig.callback, sig.signum));
    if (!error.empty()) return false;
    sig.handle->data = this;
    if (!sig.keeps_loop) uv_unref(reinterpret_cast<uv_handle_t*>(sig.handle));
  }
  error = uv_failure("timer", uv_timer_init(&loop_, &shutdown_timer_));
  if (error.empty()) error = uv_failure("timer", uv_timer_init(&loop_, &sample_timer_));
  if (!error.empty()) return false;
  shutdown_timer_.data = this;
  sample_timer_.data = this;
  uv_unref(reinterpret_cast<uv_handle_t*>(&sample_timer_));
  sample_metrics();
  uv_timer_start(&sample_timer_, &Worker::on_sample_timer, kSampleMs, kSampleMs);
  return true;
}

// What runs where, in the log; then "listening" to the supervisor (which then
// forwards SIGUSR1: before main() ignored it, its default action would have
// ended the process) and the heartbeat, or READY to systemd when alone.
void Worker::announce() {
  const std::string address = listen_address(config_);
  if (metrics_server_) {
    SB_LOG_INFO("metrics on http://%s/metrics", listen_address(*config_.metrics_listen).c_str());
  }
  if (agent_server_) {
    SB_LOG_INFO("agent-check on %s", listen_address(*config_.agent_listen).c_str());
  }
  if (!config_.websocket_path.empty()) {
    SB_LOG_INFO("XMPP over WebSocket on ws://%s%s", address.c_str(),
                config_.websocket_path.c_str());
  }
  if (tls_listener_) {
    SB_LOG_INFO("listening on https://%s%s (and wss://), TLS 1.2 and 1.3",
                tls_listen_address(config_).c_str(), config_.bosh_path.c_str());
  }
  SB_LOG_INFO("listening on http://%s%s, upstream %s", address.c_str(), config_.bosh_path.c_str(),
              settings_.default_upstream.host.empty()
                  ? "per domain only"
                  : (settings_.default_upstream.host + ":" +
                     std::to_string(settings_.default_upstream.port))
                        .c_str());
  if (handover_) {
    handover_->send_control("listening", "");
    heartbeat_ = std::make_unique<Heartbeat>(
        &loop_, [this] { handover_->send_control(Heartbeat::kKind, ""); });
    heartbeat_->set_timeout(config_.worker_hang_timeout);
  } else {
    if (const std::string error = write_pid_file(config_.pid_file, getpid()); !error.empty()) {
      SB_LOG_ERROR("pid_file %s", error.c_str());
    }
    notify_ready("listening on " + address);
    watchdog_.start(&loop_);
  }
}

void Worker::on_check(uv_check_t* handle) {
  auto& self = *static_cast<Worker*>(handle->data);
  if (self.keeper_) self.keeper_->flush();  // before collect(): it reads the sessions that ended
  self.sessions_->collect();
  self.sockets_.collect();  // HTTP sockets whose stream switched to WebSocket
  self.admission_->check();
}

void Worker::on_sample_timer(uv_timer_t* handle) {
  static_cast<Worker*>(handle->data)->sample_metrics();
}

// The gauges, and the counters other objects keep, into our slot. Summing the
// held requests walks the sessions: about a microsecond per thousand, once a
// second, cheaper than tracking every change of every session's queue.
void Worker::sample_metrics() {
  MetricsSlot& slot = recorder_.slot();
  const auto held = static_cast<std::int64_t>(sessions_->held_requests());
  slot.set(slot.pid, static_cast<std::int64_t>(getpid()));
  slot.set(slot.sessions, static_cast<std::int64_t>(counts_.live()));
  slot.set(slot.websocket_connections,
           static_cast<std::int64_t>(websocket_ ? websocket_->live() : 0));
  slot.set(slot.held_requests, held);
  slot.set(slot.upstream_links, static_cast<std::int64_t>(upstreams_->live_count()));
  slot.set(slot.http_connections, static_cast<std::int64_t>(sockets_.size()));
  if (admission_) slot.set(slot.open_fds, static_cast<std::int64_t>(admission_->live_fds()));
  slot.set(slot.max_fds, static_cast<std::int64_t>(fd_limit_));
  slot.set(slot.logins_in_progress, static_cast<std::int64_t>(pacer_->in_progress()));
  slot.set(slot.login_rate, static_cast<std::int64_t>(pacer_->rate()));
  slot.set(slot.logins_queued, static_cast<std::int64_t>(endpoint_->queued()));
  if (handover_) {
    // Only this sampler writes these: plain stores of the handover's own counts.
    const HandoverCounters& h = handover_->counters();
    slot.counters[metric::kHandoversSent].store(h.handed_over, std::memory_order_relaxed);
    slot.counters[metric::kHandoversAdopted].store(h.adopted, std::memory_order_relaxed);
    slot.counters[metric::kRefused + metric::kConnectionBusy].store(h.busy,
                                                                    std::memory_order_relaxed);
  }
}

}  // namespace sb::app
