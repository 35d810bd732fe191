#include "app/process/engine_settings.hpp"

#include "app/front/host_meta.hpp"
#include "app/handover/sid_owner.hpp"
#include "app/process/fd_budget.hpp"

#include "app/log/log.hpp"

namespace sb::app {
namespace {
// Why an XMPP server link failed (TLS refused, certificate rejected, ...): the BOSH
// client only learns remote-connection-failed, the operator reads this.
void log_link_failure(std::string_view message) {
  SB_LOG_WARN("%.*s", static_cast<int>(message.size()), message.data());
}
}  // namespace

bosh::EngineSettings engine_settings(const Config& config, int worker_index) {
  bosh::EngineSettings s;
  s.max_wait = config.max_wait;
  s.default_wait = config.default_wait;
  s.max_hold = config.max_hold;
  s.inactivity = config.inactivity;
  s.polling = config.polling;
  s.maxpause = config.maxpause;
  s.max_session_queue_bytes = config.max_session_queue_bytes;
  // max_sessions is for the whole daemon: each worker holds its share.
  s.max_sessions = worker_max_sessions(config.max_sessions, config.workers);
  s.max_sessions_per_ip = config.max_sessions_per_ip;
  s.track_peers = config.upstream_proxy_protocol != 0;  // the PROXY header names the client
  if (config.upstream) s.default_upstream = *config.upstream;
  for (const auto& [domain, hp] : config.domain_upstreams) s.domains[domain] = hp;
  s.allowed_routes = config.allowed_routes;
  // The sid prefix names the node (for an L7 router) and the worker that owns the
  // session, so a request can be routed to its owner without a shared lookup.
  if (config.workers != 1) {
    s.sid_prefix = worker_sid_prefix(config.node_id, static_cast<std::uint32_t>(worker_index));
  } else if (!config.node_id.empty()) {
    s.sid_prefix = config.node_id + ".";
  }
  return s;
}

http::ConnectionLimits connection_limits(const Config& config) {
  http::ConnectionLimits limits;
  limits.max_header_bytes = config.max_header_bytes;
  limits.max_body_bytes = config.max_body_bytes;
  limits.header_timeout_ms = std::uint64_t{config.http_header_timeout} * 1000;
  limits.idle_timeout_ms = std::uint64_t{config.http_idle_timeout} * 1000;
  // The paths whose handlers read Host and the upgrade headers (RequestHead).
  if (!config.websocket_path.empty()) limits.head_paths.push_back(config.websocket_path);
  limits.head_paths.emplace_back(HostMeta::kXrdPath);
  limits.head_paths.emplace_back(HostMeta::kJrdPath);
  return limits;
}

xmpp::LinkSettings link_settings(const Config& config) {
  xmpp::LinkSettings link;
  link.connect_timeout_ms = std::uint64_t{config.upstream_connect_timeout} * 1000;
  link.max_stanza_bytes = config.max_stanza_bytes;
  link.tls = config.upstream_tls;
  link.tls_client.verify_peer = config.upstream_tls_verify;
  link.tls_on_loopback = config.upstream_tls_loopback;
  link.max_unsent_bytes = config.max_session_queue_bytes;
  link.tls_client.ca_file = config.upstream_tls_ca_file;
  link.report = log_link_failure;
  link.proxy_protocol = config.upstream_proxy_protocol;
  return link;
}

WsTimeouts ws_timeouts(const Config& config) {
  WsTimeouts timeouts;
  timeouts.open_ms = connection_limits(config).header_timeout_ms;
  timeouts.ping_interval_ms = std::uint64_t{config.websocket_ping_interval} * 1000;
  timeouts.pong_timeout_ms = std::uint64_t{config.websocket_pong_timeout} * 1000;
  return timeouts;
}

LoginPacerSettings login_pacer_settings(const Config& config) {
  LoginPacerSettings settings;
  settings.max_in_progress = config.max_logins_in_progress;
  return settings;
}

}  // namespace sb::app
