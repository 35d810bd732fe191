// Reload planning (config_reload.hpp): live keys take their new values,
// restart-only keys keep theirs and are named, and the configuration's form on
// the IPC pipe decodes back to the same Config, or to every problem.
#include "app/printing.hpp"

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

#include "app/config/config.hpp"
#include "app/config/config_reload.hpp"

using sb::app::Config;
using sb::app::LogLevel;
using sb::app::plan_reload;
using sb::base::HostPort;

namespace {
Config running_config() {
  Config c;
  c.upstream = HostPort{"a.example", 5222};
  c.workers = 4;
  c.listen = HostPort{"0.0.0.0", 5280};
  c.domain_upstreams.emplace("old.example", HostPort{"o", 1});
  return c;
}
}  // namespace

TEST_CASE("live keys change, restart-only keys keep their running value") {
  const Config running = running_config();
  Config loaded = running;
  loaded.max_sessions_per_ip = 5;
  loaded.cors_origins = {"https://x.example"};
  loaded.log_level = LogLevel::kDebug;
  loaded.domain_upstreams.erase("old.example");
  loaded.domain_upstreams.emplace("new.example", HostPort{"n", 2});
  loaded.listen = HostPort{"0.0.0.0", 5281};  // restart only
  loaded.workers = 8;                         // restart only
  loaded.upstream_tls_verify = false;         // restart only

  const auto plan = plan_reload(running, loaded);
  CHECK(plan.restart == std::vector<std::string>{"listen", "upstream_tls_verify", "workers"});
  CHECK(plan.changed == std::vector<std::string>{"cors_origins", "log_level", "max_sessions_per_ip",
                                                 "upstream.new.example", "upstream.old.example"});
  CHECK(plan.next.max_sessions_per_ip == 5);
  CHECK(plan.next.cors_origins == std::vector<std::string>{"https://x.example"});
  CHECK(plan.next.log_level == LogLevel::kDebug);
  CHECK(plan.next.domain_upstreams.count("old.example") == 0);
  CHECK(plan.next.domain_upstreams.at("new.example") == HostPort{"n", 2});
  CHECK(plan.next.listen == running.listen);
  CHECK(plan.next.workers == 4);
  CHECK(plan.next.upstream_tls_verify);
}

TEST_CASE("the same configuration again changes nothing") {
  const Config running = running_config();
  const auto plan = plan_reload(running, running);
  CHECK(plan.changed.empty());
  CHECK(plan.restart.empty());
  CHECK(plan.next == running);
}

TEST_CASE("the configuration survives the pipe, and a bad one names every problem") {
  Config c = running_config();
  c.cors_origins = {"https://a.example", "https://b.example"};
  c.log_file = "/tmp/sb reload test.log";  // a space survives; the file is made by validate
  c.upstream_source_addresses = "127.0.0.2-127.0.0.9";
  std::vector<std::string> errors;
  const auto back = sb::app::decode_config(sb::app::encode_config(c), errors);
  CHECK(errors == std::vector<std::string>{});
  REQUIRE(back.has_value());
  CHECK(*back == c);
  std::remove("/tmp/sb reload test.log");

  const std::string bad = std::string("max_wait=soon") + '\0' + "colour=blue" + '\0' + "nothing";
  CHECK_FALSE(sb::app::decode_config(bad, errors).has_value());
  CHECK(errors == std::vector<std::string>{
                      "'max_wait' must be a whole number of seconds from 1 to 3600, got 'soon'",
                      "unknown key 'colour'", "configuration entry without '=': 'nothing'",
                      "no XMPP server configured: set 'upstream', an 'upstream.<domain>' or "
                      "'allowed_routes'"});
}

TEST_CASE("which keys are live") {
  using sb::app::key_reload;
  using sb::app::Reload;
  for (const char* key :
       {"max_sessions_per_ip", "cors_origins", "upstream", "allowed_routes", "log_level",
        "log_file", "max_wait", "upstream.any.example", "tls_cert_file", "tls_key_file",
        "websocket_ping_interval", "websocket_pong_timeout", "worker_hang_timeout", "drain"}) {
    INFO(key);
    CHECK(key_reload(key) == Reload::kLive);
  }
  for (const char* key : {"listen", "workers", "bosh_path", "node_id", "demo_root", "upstream_tls",
                          "upstream_source_addresses", "no_such_key", "tls_listen",
                          "websocket_path", "public_bosh_url", "metrics_listen", "proxy_protocol",
                          "trusted_proxies", "upstream_proxy_protocol", "agent_listen"}) {
    INFO(key);
    CHECK(key_reload(key) == Reload::kRestart);
  }
  CHECK(sb::app::join_keys({"a", "b"}) == "a, b");
}

// docs/configuration.md, "Reloading (SIGHUP)", lists the live keys, then the
// restart-only ones: each key must be in the list its table entry says.
TEST_CASE("docs/configuration.md names every key's reload behaviour") {
  // The repository root, from this file's path (tests/unit/app/config/).
  const auto root = std::filesystem::path(__FILE__)
                        .parent_path()
                        .parent_path()
                        .parent_path()
                        .parent_path()
                        .parent_path();
  std::ifstream file(root / "docs" / "configuration.md");
  REQUIRE(file.good());
  std::stringstream buffer;
  buffer << file.rdbuf();
  const std::string text = buffer.str();
  const std::size_t live = text.find("Live on reload:");
  const std::size_t restart = text.find("Every other key takes a restart:");
  const std::size_t end = text.find("\n## ", restart);
  REQUIRE(live != std::string::npos);
  REQUIRE(restart != std::string::npos);
  REQUIRE(live < restart);
  const std::string live_part = text.substr(live, restart - live);
  const std::string restart_part = text.substr(restart, end - restart);
  auto names = [](const std::string& part, std::string_view key) {
    const std::string quoted = "`" + std::string(key) + "`";
    // `upstream_tls*` stands for the four upstream TLS keys.
    return part.find(quoted) != std::string::npos ||
           (key.starts_with("upstream_tls") && part.find("`upstream_tls*`") != std::string::npos);
  };
  for (std::string_view key : sb::app::config_key_names()) {
    INFO(key);
    if (sb::app::key_reload(key) == sb::app::Reload::kLive) {
      CHECK(names(live_part, key));
      CHECK_FALSE(names(restart_part, key));
    } else {
      CHECK(names(restart_part, key));
      CHECK_FALSE(names(live_part, key));
    }
  }
}
