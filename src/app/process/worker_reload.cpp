// A worker's reloads: SIGHUP when it runs alone (it reads the file itself), the
// supervisor's "config" control message when supervised, SIGUSR1's log reopening,
// and applying a configuration's live keys to the running layers. See worker.hpp.
#include <csignal>

#include "app/config/config_reload.hpp"
#include "app/log/log.hpp"
#include "app/process/engine_settings.hpp"
#include "app/process/notify.hpp"
#include "app/process/worker.hpp"
#include "app/process/worker_launch.hpp"

namespace sb::app {

std::optional<std::string> Worker::reload_tls_certificate(const std::string& cert_file,
                                                          const std::string& key_file) {
  if (!tls_context_) return std::string("no tls_listen in this worker");
  auto error = tls_context_->reload(cert_file, key_file);
  if (error) {
    SB_LOG_WARN("TLS certificate not reloaded, the old one stays: %s", error->c_str());
  } else {
    SB_LOG_INFO("TLS certificate reloaded from %s", cert_file.c_str());
  }
  return error;
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
    if (!error.empty())
      SB_LOG_ERROR("cannot reopen the log file %s; still logging to the old one", error.c_str());
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
  std::optional<Config> loaded = load_for_reload(reload_path_, reload_overrides_);
  if (!loaded) return;
  loaded->workers = config_.workers;  // resolved at start; never live
  const ReloadPlan plan = plan_reload_logged(config_, *loaded);
  apply_config(plan.next);
  SB_LOG_INFO("reload done: %s", plan.changed.empty()
                                     ? "nothing changed"
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
  SB_LOG_INFO(
      "configuration %s applied: %s", generation.c_str(),
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
  if (websocket_) websocket_->update_limits(next.max_stanza_bytes, ws_timeouts(next));
  if (admission_)
    admission_->set_max_sessions(worker_max_sessions(next.max_sessions, next.workers));
  if (heartbeat_) heartbeat_->set_timeout(next.worker_hang_timeout);
  pacer_->update(login_pacer_settings(next));
  apply_log_settings(next);
  Config applied = next;
  if (tls_context_) {
    // Loaded on every reload, changed paths or not: a renewed certificate usually
    // replaces the old files in place. TLS connections accepted from now on get
    // the new context; open ones keep theirs (tls_server_context.hpp), so no
    // session drops. A pair that fails to load leaves the old one serving, and
    // the running paths stay what they were, so a later reload tries again.
    if (reload_tls_certificate(next.tls_cert_file, next.tls_key_file)) {
      applied.tls_cert_file = config_.tls_cert_file;
      applied.tls_key_file = config_.tls_key_file;
    }
  }
  config_ = std::move(applied);
}

}  // namespace sb::app
