// The configuration handed to the layers below (engine_settings.hpp): the BOSH
// engine's settings, the HTTP connection limits, the XMPP link settings, the
// WebSocket timeouts and the login pacing. Each worker reads only what these give
// it, so a key lost or a unit mixed up here is a setting that silently does nothing.
#include <doctest/doctest.h>

#include <algorithm>
#include <string>

#include "app/handover/sid_owner.hpp"
#include "app/process/engine_settings.hpp"

using sb::app::Config;
using sb::base::HostPort;

namespace {
template <typename List>
bool has(const List& list, const std::string& item) {
  return std::find(list.begin(), list.end(), item) != list.end();
}
}  // namespace

TEST_CASE("engine settings: session parameters, caps and routing come from the configuration") {
  Config c;
  c.max_wait = 90;
  c.inactivity = 45;
  c.max_session_queue_bytes = 4096;
  c.max_sessions_per_ip = 7;
  c.upstream = HostPort{"xmpp.example.com", 5222};
  c.domain_upstreams["example.net"] = HostPort{"10.0.0.2", 5223};
  c.allowed_routes.push_back(HostPort{"10.0.0.3", 5224});
  const auto s = sb::app::engine_settings(c, 0);
  CHECK(s.max_wait == 90);
  CHECK(s.inactivity == 45);
  CHECK(s.max_session_queue_bytes == 4096);
  CHECK(s.max_sessions_per_ip == 7);
  CHECK(s.default_upstream.host == "xmpp.example.com");
  CHECK(s.default_upstream.port == 5222);
  REQUIRE(s.domains.count("example.net") == 1);
  CHECK(s.domains.at("example.net").host == "10.0.0.2");
  CHECK(s.domains.at("example.net").port == 5223);
  REQUIRE(s.allowed_routes.size() == 1);
  CHECK(s.allowed_routes[0].port == 5224);
  CHECK_FALSE(s.track_peers);
  c.upstream_proxy_protocol = 2;  // the PROXY header names the client: sessions keep it
  CHECK(sb::app::engine_settings(c, 0).track_peers);
}

TEST_CASE("engine settings: max_sessions is for the daemon, each worker holds its share") {
  Config c;
  c.max_sessions = 1000;
  CHECK(sb::app::engine_settings(c, 0).max_sessions == 1000);
  c.workers = 3;
  CHECK(sb::app::engine_settings(c, 2).max_sessions == 334);  // rounded up: 3 x 334 >= 1000
  c.max_sessions = 0;                                         // unlimited stays unlimited
  CHECK(sb::app::engine_settings(c, 2).max_sessions == 0);
}

TEST_CASE("engine settings: one worker's sids carry the node id alone, none without one") {
  Config c;
  CHECK(sb::app::engine_settings(c, 0).sid_prefix.empty());
  c.node_id = "node7";
  CHECK(sb::app::engine_settings(c, 0).sid_prefix == "node7.");
  // Several workers: the worker's index too (sid_owner_test reads it back).
  c.workers = 2;
  CHECK(sb::app::engine_settings(c, 1).sid_prefix == sb::app::worker_sid_prefix("node7", 1));
}

TEST_CASE("connection limits: sizes as given, timeouts from seconds to milliseconds") {
  Config c;
  c.max_header_bytes = 4000;
  c.max_body_bytes = 30000;
  c.http_header_timeout = 7;
  c.http_idle_timeout = 90;
  const auto limits = sb::app::connection_limits(c);
  CHECK(limits.max_header_bytes == 4000);
  CHECK(limits.max_body_bytes == 30000);
  CHECK(limits.header_timeout_ms == 7000);
  CHECK(limits.idle_timeout_ms == 90000);
}

TEST_CASE("connection limits: the request head is kept for WebSocket and host-meta paths only") {
  Config c;
  c.websocket_path = "/ws";
  auto limits = sb::app::connection_limits(c);
  CHECK(limits.head_paths.size() == 3);
  CHECK(has(limits.head_paths, "/ws"));
  CHECK(has(limits.head_paths, "/.well-known/host-meta"));
  CHECK(has(limits.head_paths, "/.well-known/host-meta.json"));
  CHECK_FALSE(has(limits.head_paths, c.bosh_path));
  c.websocket_path.clear();  // WebSocket off: host-meta still needs Host
  limits = sb::app::connection_limits(c);
  CHECK(limits.head_paths.size() == 2);
  CHECK_FALSE(has(limits.head_paths, ""));
}

TEST_CASE(
    "link settings: the connect timeout in milliseconds, stanza and backlog caps, the PROXY "
    "version") {
  Config c;
  c.upstream_connect_timeout = 4;
  c.max_stanza_bytes = 100000;
  c.max_session_queue_bytes = 50000;
  c.upstream_proxy_protocol = 1;
  const auto link = sb::app::link_settings(c);
  CHECK(link.connect_timeout_ms == 4000);
  CHECK(link.max_stanza_bytes == 100000);
  CHECK(link.max_unsent_bytes == 50000);
  CHECK(link.proxy_protocol == 1);
  const bool reports_to_the_log = link.report != nullptr;  // TLS failures reach the log
  CHECK(reports_to_the_log);
}

TEST_CASE(
    "WebSocket timeouts: the first <open/> within http_header_timeout, ping and pong in "
    "milliseconds") {
  Config c;
  c.http_header_timeout = 3;
  c.websocket_ping_interval = 25;
  c.websocket_pong_timeout = 5;
  const auto timeouts = sb::app::ws_timeouts(c);
  CHECK(timeouts.open_ms == 3000);
  CHECK(timeouts.ping_interval_ms == 25000);
  CHECK(timeouts.pong_timeout_ms == 5000);
}

TEST_CASE("login pacing: max_logins_in_progress per worker, 0 turning it off") {
  Config c;
  c.max_logins_in_progress = 64;
  CHECK(sb::app::login_pacer_settings(c).max_in_progress == 64);
  c.max_logins_in_progress = 0;
  CHECK(sb::app::login_pacer_settings(c).max_in_progress == 0);
}
