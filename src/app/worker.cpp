// The worker process: construction of its layers from the Config, its signals,
// reloads and its orderly shutdown. See worker.hpp.
#include "app/worker.hpp"

#include <algorithm>
#include <csignal>
#include <cstdlib>
#include <unistd.h>

#include "app/config_reload.hpp"
#include "app/engine_settings.hpp"
#include "app/log.hpp"
#include "app/worker_launch.hpp"

namespace sb::app {
namespace {
constexpr std::uint64_t kDrainMs = 1000;     // for answers and </stream:stream> to flush
constexpr std::uint64_t kCloseMs = 3000;     // then for sockets to close, at most
}  // namespace

Worker::Worker(const Config& config, int index, int ipc_fd, int board_fd)
    : config_(config),
      settings_(engine_settings(config, index)),
      limits_(connection_limits(config)),
      cors_(config.cors_origins),
      link_settings_(link_settings(config)),
      index_(index),
      ipc_fd_(ipc_fd) {
  cors_.set_refusal_hook([](std::string_view origin) {
    SB_LOG_WARN("refused cross-origin requests from %.*s: not in cors_origins (add it there, "
                "or set cors_origins = * to allow any origin)",
                static_cast<int>(origin.size()), origin.data());
  });
  uv_loop_init(&loop_);
  context_ = std::make_unique<net::LoopContext>(&loop_);
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
  sessions_ = std::make_unique<bosh::SessionTable>(settings_, context_->timers());
  sessions_->set_events(&engine_log_);
  endpoint_ = std::make_unique<bosh::Endpoint>(*sessions_, *upstreams_);
  router_ = std::make_unique<http::Router>(cors_);
  router_->add(config.bosh_path, {http::Method::kPost, http::Method::kGet, http::Method::kHead},
               *endpoint_);
  if (!config.demo_root.empty()) {
    demo_ = std::make_unique<http::StaticFiles>(config.demo_root);
    if (demo_->ok()) {
      demo_->mount(*router_);
    } else {
      SB_LOG_WARN("demo_root %s: %s", config.demo_root.c_str(), demo_->error().c_str());
    }
  }
  shared_ = std::make_unique<HttpSocket::Shared>(
      HttpSocket::Shared{*router_, limits_, cors_, context_->timers(), sockets_});
  listener_ = std::make_unique<net::Listener>(&loop_, [this](net::TcpStream& stream) {
    HttpSocket::adopt(stream, *shared_);
    admission_->check();  // may close the listener: it stops accepting at once
  });
  if (board_fd >= 0) {
    std::string error;
    board_ = ListenBoard::attach(board_fd, error);
    if (!board_) SB_LOG_WARN("%s: this worker keeps its listener open when full", error.c_str());
  }
  if (ipc_fd_ >= 0) {
    Handover::Identity identity{static_cast<std::uint32_t>(index), config.workers, config.node_id};
    handover_ = std::make_unique<Handover>(
        &loop_, std::move(identity), *shared_,
        [this](net::TcpStream& stream, std::string_view request) {
          HttpSocket::adopt(stream, *shared_, request);
        },
        [this] {
          if (shutdown_phase_ > 0) return;
          SB_LOG_WARN("supervisor gone: shutting down %zu sessions", sessions_->size());
          begin_shutdown();
        });
    handover_->set_control_handler([this](const ControlMessage& message) { on_control(message); });
    endpoint_->set_foreign_sid_router(handover_.get());
  }
}

Worker::~Worker() {
  // Everything below was closed by run(); free in reverse order of creation.
  admission_.reset();
  listener_.reset();
  handover_.reset();
  sessions_.reset();
  context_.reset();
  uv_loop_close(&loop_);
}

int Worker::run() {
  std::string error;
  const std::string address = listen_address(config_);
  const bool pipe_ok = !handover_ || handover_->open(ipc_fd_, error) == 0;
  if (!pipe_ok || listener_->listen(address, 4096, error) != 0) {
    if (pipe_ok) error = "cannot listen on " + address + ": " + error;
    SB_LOG_ERROR("%s", error.c_str());
    if (handover_) handover_->close();
    uv_run(&loop_, UV_RUN_NOWAIT);  // runs the close callbacks
    return 1;
  }
  Admission::Setup setup;
  setup.budget = fd_budget(raise_fd_limit());
  setup.baseline_fds = count_open_fds();
  setup.max_sessions = worker_max_sessions(config_.max_sessions, config_.workers);
  setup.index = static_cast<std::uint32_t>(index_);
  admission_ = std::make_unique<Admission>(setup, *listener_, *sessions_, board_.get());
  admission_->listening();
  if (handover_) admission_->set_handover(handover_.get(), config_.workers);
  endpoint_->set_creation_gate(admission_.get());
  SB_LOG_INFO("fd limit %llu: no new sessions from %llu descriptors in use (about %llu sessions), "
              "again below %llu",
              static_cast<unsigned long long>(setup.budget.limit),
              static_cast<unsigned long long>(setup.budget.high),
              static_cast<unsigned long long>(
                  (setup.budget.high - std::min(setup.budget.high, setup.baseline_fds)) / 2),
              static_cast<unsigned long long>(setup.budget.low));
  context_->start_ticking();
  uv_check_init(&loop_, &collector_);
  collector_.data = this;
  uv_check_start(&collector_, &Worker::on_check);
  uv_unref(reinterpret_cast<uv_handle_t*>(&collector_));
  for (auto* sig : {&sigterm_, &sigint_}) {
    uv_signal_init(&loop_, sig);
    sig->data = this;
  }
  uv_signal_start(&sigterm_, &Worker::on_signal, SIGTERM);
  uv_signal_start(&sigint_, &Worker::on_signal, SIGINT);
  for (auto* sig : {&sighup_, &sigusr1_}) {
    uv_signal_init(&loop_, sig);
    sig->data = this;
    uv_unref(reinterpret_cast<uv_handle_t*>(sig));  // no reason to keep the loop alive
  }
  uv_signal_start(&sighup_, &Worker::on_reload_signal, SIGHUP);
  uv_signal_start(&sigusr1_, &Worker::on_reload_signal, SIGUSR1);
  uv_timer_init(&loop_, &shutdown_timer_);
  shutdown_timer_.data = this;

  SB_LOG_INFO("listening on http://%s%s, upstream %s", address.c_str(), config_.bosh_path.c_str(),
              settings_.default_upstream.host.empty()
                  ? "per domain only"
                  : (settings_.default_upstream.host + ":" +
                     std::to_string(settings_.default_upstream.port)).c_str());
  // The supervisor forwards SIGUSR1 only to workers that said this (before main()
  // ignored it, its default action would have ended the process).
  if (handover_) {
    handover_->send_control("listening", "");
  } else {
    notify_ready("listening on " + address);
    watchdog_.start(&loop_);
  }
  uv_run(&loop_, UV_RUN_DEFAULT);

  // The loop is out of work: close what is left and let the close callbacks run.
  net::close_remaining_handles(&loop_);
  SB_LOG_INFO("stopped");
  return 0;
}

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

void Worker::set_reload_source(std::string path, std::vector<Override> overrides) {
  reload_path_ = std::move(path);
  reload_overrides_ = std::move(overrides);
}

void Worker::on_reload_signal(uv_signal_t* handle, int signum) {
  auto& self = *static_cast<Worker*>(handle->data);
  if (self.shutdown_phase_ > 0) return;
  if (signum == SIGUSR1) {
    const std::string error = reopen_log_file();
    if (!error.empty()) SB_LOG_ERROR("cannot reopen the log file %s; still logging to the old one", error.c_str());
    return;
  }
  if (self.handover_) {
    SB_LOG_DEBUG("SIGHUP ignored: the supervisor reloads the configuration");
    return;
  }
  self.reload_from_file();
}

// Alone, the worker is the daemon: it reads the file itself.
void Worker::reload_from_file() {
  notify_reloading();
  reload_file();
  notify_ready("listening on " + listen_address(config_));
}

void Worker::reload_file() {
  SB_LOG_INFO("SIGHUP: reloading %s", reload_path_.empty() ? "the command-line configuration"
                                                            : reload_path_.c_str());
  std::vector<std::string> errors;
  Config loaded = load_config(reload_path_, reload_overrides_, errors);
  if (!errors.empty()) {
    for (const std::string& problem : errors) SB_LOG_ERROR("reload refused: %s", problem.c_str());
    SB_LOG_ERROR("reload refused (%zu problem%s): the running configuration stays", errors.size(),
                 errors.size() == 1 ? "" : "s");
    return;
  }
  loaded.workers = config_.workers;  // resolved at start; never live
  const ReloadPlan plan = plan_reload(config_, loaded);
  if (!plan.restart.empty()) {
    SB_LOG_WARN("reload: %s changed, which takes a restart: the running value stays",
                join_keys(plan.restart).c_str());
  }
  apply_config(plan.next);
  SB_LOG_INFO("reload done: %s", plan.changed.empty() ? "nothing changed"
                                                      : ("changed " + join_keys(plan.changed)).c_str());
}

void Worker::on_control(const ControlMessage& message) {
  if (message.kind != "config") {
    SB_LOG_WARN("unknown control message '%s' from the supervisor", message.kind.c_str());
    return;
  }
  // The body: a generation number, a newline, the encoded configuration.
  const std::size_t newline = message.body.find('\n');
  const std::string generation = message.body.substr(0, newline);
  std::vector<std::string> errors;
  const auto next = newline == std::string::npos
                        ? std::nullopt
                        : decode_config(std::string_view(message.body).substr(newline + 1), errors);
  if (!next) {
    // The supervisor checked this very configuration: only a mismatched binary
    // (or a file that vanished since, say a demo_root) gets here.
    for (const std::string& problem : errors) SB_LOG_ERROR("reload refused: %s", problem.c_str());
    handover_->send_control("refused", generation);
    return;
  }
  const ReloadPlan plan = plan_reload(config_, *next);
  apply_config(plan.next);
  SB_LOG_INFO("configuration %s applied: %s", generation.c_str(),
              plan.changed.empty() ? "nothing changed" : ("changed " + join_keys(plan.changed)).c_str());
  handover_->send_control("applied", generation);
}

void Worker::apply_config(const Config& next) {
  // Each layer reads its settings at the moment it uses them (the session table,
  // the endpoint and the HTTP parsers hold references to these members), so
  // replacing them in place changes what happens from the next request on.
  settings_ = engine_settings(next, index_);
  limits_ = connection_limits(next);
  cors_.set_origins(next.cors_origins);
  upstreams_->update_limits(link_settings(next));
  if (admission_) admission_->set_max_sessions(worker_max_sessions(next.max_sessions, next.workers));
  set_log_level(next.log_level);
  if (next.log_file != log_file_path()) {
    const std::string error = set_log_file(next.log_file);
    if (!error.empty()) SB_LOG_ERROR("cannot open the new log file %s; logging goes on as before", error.c_str());
  }
  // The HTTPS listener's certificates (tls_cert_file, tls_key_file) belong here
  // once that listener exists: build the new SSL_CTX first (a bad file leaves the
  // old one), then hand it to the listener for new handshakes; connections keep
  // the context they were accepted with.
  config_ = next;
}

void Worker::begin_shutdown() {
  shutdown_phase_ = 1;
  if (!handover_) notify_stopping();
  if (admission_) admission_->stop();
  if (board_) board_->forget(static_cast<std::uint32_t>(index_));
  listener_->close();
  endpoint_->refuse_new_sessions();
  sessions_->end_all(bosh::Condition::kSystemShutdown);
  sessions_->collect();
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

void Worker::finish_shutdown() {
  shutdown_phase_ = 2;
  // Closing the pipe first fails the hand-overs still being sent, which closes
  // their sockets too.
  if (handover_) handover_->close();
  sockets_.close_all();
  // Links still waiting for a server's </stream:stream> (a deaf server) are
  // closed now, so they free themselves before the loop ends.
  upstreams_->close_all();
  context_->stop_ticking();
  uv_check_stop(&collector_);
  uv_close(reinterpret_cast<uv_handle_t*>(&collector_), nullptr);
  uv_close(reinterpret_cast<uv_handle_t*>(&sigterm_), nullptr);
  uv_close(reinterpret_cast<uv_handle_t*>(&sigint_), nullptr);
  uv_close(reinterpret_cast<uv_handle_t*>(&sighup_), nullptr);
  uv_close(reinterpret_cast<uv_handle_t*>(&sigusr1_), nullptr);
  watchdog_.stop();
  uv_timer_start(&shutdown_timer_, &Worker::on_shutdown_timer, kCloseMs, 0);
  uv_unref(reinterpret_cast<uv_handle_t*>(&shutdown_timer_));
}

void Worker::on_check(uv_check_t* handle) {
  auto& self = *static_cast<Worker*>(handle->data);
  self.sessions_->collect();
  self.admission_->check();
}

}  // namespace sb::app
