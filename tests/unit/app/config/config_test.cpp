// Config keys one by one through apply_setting: defaults, ranges, messages, the
// cross-key rules of validate_config, and the format_config round trip.
#include "app/printing.hpp"

#include <filesystem>

#include "app/config/config.hpp"
#include "app/config/config_file.hpp"

using sb::app::apply_setting;
using sb::app::Config;
using sb::app::LogLevel;
using sb::base::HostPort;

namespace {
// A default Config with a default upstream, so validate_config has nothing to say.
Config runnable() {
  Config config;
  config.upstream = HostPort{"localhost", 5222};
  return config;
}

std::string error_of(std::string_view key, std::string_view value) {
  Config config;
  auto error = apply_setting(config, key, value);
  REQUIRE(error.has_value());
  const Config defaults;      // named, not a temporary: see config_file_test.cpp
  CHECK(config == defaults);  // a refused value leaves the config untouched
  return *error;
}
}  // namespace

TEST_CASE("defaults are the documented ones") {
  const Config c;
  CHECK(c.listen == HostPort{"127.0.0.1", 5280});
  CHECK(c.bosh_path == "/http-bind");
  CHECK(c.websocket_path == "/xmpp-websocket");
  CHECK(c.public_bosh_url.empty());
  CHECK(c.public_websocket_url.empty());
  CHECK(c.websocket_ping_interval == 60);
  CHECK(c.websocket_pong_timeout == 30);
  CHECK(c.workers == 1);
  CHECK(c.worker_hang_timeout == 30);
  CHECK_FALSE(c.upstream.has_value());
  CHECK(c.domain_upstreams.empty());
  CHECK(c.allowed_routes.empty());
  CHECK(c.cors_origins == std::vector<std::string>{"*"});
  CHECK(c.demo_root.empty());
  CHECK(c.node_id.empty());
  CHECK(c.max_wait == 120);
  CHECK(c.default_wait == 60);
  CHECK(c.max_hold == 1);
  CHECK(c.inactivity == 60);
  CHECK(c.polling == 2);
  CHECK(c.maxpause == 120);
  CHECK(c.max_body_bytes == 65536);
  CHECK(c.max_header_bytes == 8192);
  CHECK(c.max_stanza_bytes == 262144);
  CHECK(c.max_session_queue_bytes == 1048576);
  CHECK(c.upstream_connect_timeout == 10);
  CHECK(c.http_idle_timeout == 120);
  CHECK(c.http_header_timeout == 10);
  CHECK(c.max_sessions_per_ip == 0);
  CHECK(c.max_sessions == 0);
  CHECK(c.log_level == LogLevel::kInfo);
}

TEST_CASE("numbers: ranges are enforced and stated in the message") {
  CHECK(error_of("max_wait", "abc") ==
        "'max_wait' must be a whole number of seconds from 1 to 3600, got 'abc'");
  CHECK(error_of("max_wait", "0") ==
        "'max_wait' must be a whole number of seconds from 1 to 3600, got '0'");
  CHECK(error_of("max_wait", "3601").find("from 1 to 3600") != std::string::npos);
  CHECK(error_of("max_wait", "-5").find("got '-5'") != std::string::npos);
  CHECK(error_of("max_wait", "").find("got ''") != std::string::npos);
  CHECK(error_of("workers", "1025") ==
        "'workers' must be auto or a whole number from 0 to 1024, got '1025'");
  CHECK(error_of("max_hold", "0").find("from 1 to 16") != std::string::npos);
  CHECK(error_of("max_sessions", "4294967296").find("from 0 to 4294967295") != std::string::npos);
  CHECK(error_of("max_sessions", "99999999999999999999999").find("got '9999") != std::string::npos);

  Config c;
  CHECK_FALSE(apply_setting(c, "polling", "0"));
  CHECK(c.polling == 0);
  CHECK_FALSE(apply_setting(c, "max_sessions", "4294967295"));
  CHECK(c.max_sessions == 4294967295U);
}

TEST_CASE("sizes: plain bytes or k/m suffixes (KiB/MiB), either case") {
  Config c;
  CHECK_FALSE(apply_setting(c, "max_body_bytes", "2000"));
  CHECK(c.max_body_bytes == 2000);
  CHECK_FALSE(apply_setting(c, "max_body_bytes", "128k"));
  CHECK(c.max_body_bytes == 128 * 1024);
  CHECK_FALSE(apply_setting(c, "max_stanza_bytes", "2M"));
  CHECK(c.max_stanza_bytes == 2 * 1024 * 1024);
  CHECK(error_of("max_body_bytes", "1g") ==
        "'max_body_bytes' must be a size in bytes from 1k to 16m (a number with an optional k "
        "or m suffix), got '1g'");
  CHECK(error_of("max_body_bytes", "17m").find("got '17m'") != std::string::npos);
  CHECK(error_of("max_body_bytes", "1023").find("from 1k") != std::string::npos);
  CHECK(error_of("max_body_bytes", "k").find("got 'k'") != std::string::npos);
  CHECK(error_of("max_body_bytes", "64 k").find("got '64 k'") != std::string::npos);
}

TEST_CASE("listen wants an IP literal, upstreams may be names") {
  CHECK(error_of("listen", "localhost:5280").find("must be an IP address and port") !=
        std::string::npos);
  CHECK(error_of("listen", "0.0.0.0") ==
        "'listen' must be host:port or [IPv6]:port: missing port in '0.0.0.0'");
  Config c;
  CHECK_FALSE(apply_setting(c, "listen", "[::]:80"));
  CHECK(c.listen == HostPort{"::", 80});
  CHECK_FALSE(apply_setting(c, "upstream", "XMPP.example.com:5222"));
  CHECK(c.upstream == HostPort{"xmpp.example.com", 5222});
  CHECK_FALSE(apply_setting(c, "upstream", ""));  // empty = none
  CHECK_FALSE(c.upstream.has_value());
}

TEST_CASE("per-domain upstreams: upstream.<domain>, domain lower-cased, empty removes") {
  Config c;
  CHECK_FALSE(apply_setting(c, "upstream.Example.org", "a.internal:5222"));
  CHECK_FALSE(apply_setting(c, "upstream.chat.example.net", "[fd00::2]:5223"));
  REQUIRE(c.domain_upstreams.size() == 2);
  CHECK(c.domain_upstreams.at("example.org") == HostPort{"a.internal", 5222});
  CHECK(c.domain_upstreams.at("chat.example.net") == HostPort{"fd00::2", 5223});
  CHECK_FALSE(apply_setting(c, "upstream.example.org", ""));
  CHECK(c.domain_upstreams.count("example.org") == 0);
  CHECK(error_of("upstream.", "a:1") == "'upstream.': '' is not a valid domain name");
  CHECK(error_of("upstream.a b", "a:1").find("is not a valid domain name") != std::string::npos);
  CHECK(error_of("upstream.example.org", "a") ==
        "'upstream.example.org' must be host:port or [IPv6]:port: missing port in 'a'");
}

TEST_CASE("lists are space-separated, a bad entry names itself") {
  Config c;
  CHECK_FALSE(apply_setting(c, "allowed_routes", "a.example:5222  [::1]:5269\tb:1"));
  CHECK(c.allowed_routes == std::vector<HostPort>{{"a.example", 5222}, {"::1", 5269}, {"b", 1}});
  CHECK(error_of("allowed_routes", "a:1 b c:2") ==
        "'allowed_routes' must be host:port or [IPv6]:port: missing port in 'b'");

  CHECK_FALSE(apply_setting(c, "cors_origins", "https://Chat.Example.com http://localhost:8080"));
  CHECK(c.cors_origins ==
        std::vector<std::string>{"https://chat.example.com", "http://localhost:8080"});
  CHECK_FALSE(apply_setting(c, "cors_origins", "*"));
  CHECK(c.cors_origins == std::vector<std::string>{"*"});
  CHECK_FALSE(apply_setting(c, "cors_origins", ""));
  CHECK(c.cors_origins.empty());
  CHECK(error_of("cors_origins", "https://a.example/").find("got 'https://a.example/'") !=
        std::string::npos);
  CHECK(error_of("cors_origins", "a.example").find("got 'a.example'") != std::string::npos);
  CHECK(error_of("cors_origins", "https://").find("got 'https://'") != std::string::npos);
}

TEST_CASE("strings: bosh_path, node_id, log_level, demo_root") {
  Config c;
  CHECK_FALSE(apply_setting(c, "bosh_path", "/bosh"));
  CHECK(c.bosh_path == "/bosh");
  CHECK(error_of("bosh_path", "bosh").find("starting with '/'") != std::string::npos);
  CHECK(error_of("bosh_path", "/a?b").find("got '/a?b'") != std::string::npos);
  CHECK(error_of("bosh_path", "/a b").find("got '/a b'") != std::string::npos);

  CHECK_FALSE(apply_setting(c, "node_id", "n07"));
  CHECK(c.node_id == "n07");
  CHECK(error_of("node_id", "node-1") ==
        "'node_id' must be at most 8 letters and digits, got 'node-1'");
  CHECK(error_of("node_id", "abcdefghi").find("at most 8") != std::string::npos);

  const std::pair<const char*, LogLevel> levels[] = {{"error", LogLevel::kError},
                                                     {"warn", LogLevel::kWarn},
                                                     {"info", LogLevel::kInfo},
                                                     {"debug", LogLevel::kDebug}};
  for (auto [name, level] : levels) {
    CHECK_FALSE(apply_setting(c, "log_level", name));
    CHECK(c.log_level == level);
  }
  CHECK(error_of("log_level", "verbose") ==
        "'log_level' must be one of error, warn, info, debug, got 'verbose'");

  CHECK_FALSE(apply_setting(c, "demo_root", "/srv/switch board"));
  CHECK(c.demo_root == "/srv/switch board");
}

TEST_CASE("WebSocket keys: websocket_path (empty = off), the public URLs, keep-alive") {
  Config c;
  CHECK_FALSE(apply_setting(c, "websocket_path", "/ws"));
  CHECK(c.websocket_path == "/ws");
  CHECK_FALSE(apply_setting(c, "websocket_path", ""));
  CHECK(c.websocket_path.empty());
  CHECK(error_of("websocket_path", "ws").find("empty (off) or a URL path") != std::string::npos);
  CHECK_FALSE(apply_setting(c, "public_bosh_url", "https://chat.example/http-bind"));
  CHECK_FALSE(apply_setting(c, "public_websocket_url", "wss://chat.example/xmpp-websocket"));
  CHECK(c.public_websocket_url == "wss://chat.example/xmpp-websocket");
  CHECK(error_of("public_bosh_url", "ws://x/y").find("http:// or https://") != std::string::npos);
  CHECK(error_of("public_websocket_url", "https://x/y").find("ws:// or wss://") !=
        std::string::npos);
  CHECK(error_of("public_websocket_url", "ws://x/a'b\"").find("got") != std::string::npos);
  CHECK(error_of("websocket_ping_interval", "0").find("from 1 to 3600") != std::string::npos);
  CHECK_FALSE(apply_setting(c, "websocket_pong_timeout", "5"));
  CHECK(c.websocket_pong_timeout == 5);
  Config same = runnable();
  same.websocket_path = same.bosh_path;
  const auto problems = sb::app::validate_config(same);
  REQUIRE(problems.size() == 1);
  CHECK(problems[0].find("'websocket_path' and 'bosh_path' must differ") != std::string::npos);
}

TEST_CASE("unknown keys are refused") {
  CHECK(error_of("wait", "60") == "unknown key 'wait'");
  CHECK(error_of("Max_Wait", "60") == "unknown key 'Max_Wait'");
}

TEST_CASE("format_config round-trips every key") {
  Config c;
  c.listen = {"::", 443};
  c.bosh_path = "/b";
  c.websocket_path = "/w";
  c.public_bosh_url = "https://chat.example/b";
  c.public_websocket_url = "wss://chat.example/w";
  c.websocket_ping_interval = 5;
  c.websocket_pong_timeout = 6;
  c.workers = 0;
  c.worker_hang_timeout = 0;
  c.upstream = HostPort{"x.example", 5222};
  c.domain_upstreams.emplace("a.example", HostPort{"10.0.0.1", 5222});
  c.domain_upstreams.emplace("b.example", HostPort{"::1", 5222});
  c.allowed_routes = {{"r1", 1}, {"r2", 2}};
  c.cors_origins = {"https://a.example", "http://b.example:81"};
  c.demo_root = "/tmp";
  c.node_id = "n1";
  c.max_wait = 30;
  c.default_wait = 20;
  c.max_hold = 2;
  c.inactivity = 90;
  c.polling = 0;
  c.maxpause = 0;
  c.max_body_bytes = 2000;
  c.max_header_bytes = 16 * 1024;
  c.max_stanza_bytes = 3 * 1024 * 1024;
  c.max_session_queue_bytes = 4 * 1024 * 1024 + 1;
  c.upstream_connect_timeout = 3;
  c.upstream_source_addresses = "127.0.0.2-127.0.0.50 fd00::1-fd00::ff";
  c.http_idle_timeout = 30;
  c.http_header_timeout = 4;
  c.max_sessions_per_ip = 7;
  c.max_sessions = 20000;
  c.log_level = LogLevel::kDebug;
  c.metrics_listen = HostPort{"127.0.0.1", 9280};
  c.proxy_protocol = true;
  c.trusted_proxies = "127.0.0.1 10.0.0.0/8 fd00::/8";
  c.upstream_proxy_protocol = 1;
  c.log_file = "/var/log/sb \"x\".log";

  const std::string text = sb::app::format_config(c);
  CHECK(text.find("max_body_bytes = 2000\n") != std::string::npos);
  CHECK(text.find("max_stanza_bytes = \"3m\"\n") != std::string::npos);
  CHECK(text.find("workers = \"auto\"\n") != std::string::npos);
  CHECK(text.find("cors_origins = [\"https://a.example\", \"http://b.example:81\"]\n") !=
        std::string::npos);
  CHECK(text.find("log_file = \"/var/log/sb \\\"x\\\".log\"\n") != std::string::npos);
  // Per-domain servers make `upstream` a table, the default under "*", at the end.
  CHECK(text.find("\n[upstream]\n\"*\" = \"x.example:5222\"\n\"a.example\" = \"10.0.0.1:5222\"\n"
                  "\"b.example\" = \"[::1]:5222\"\n") != std::string::npos);
  Config back;
  std::vector<std::string> errors;
  CHECK(sb::app::parse_config_text(text, "formatted", back, errors));
  CHECK(errors.empty());
  CHECK(back == c);

  // and the defaults too (empty values written as "")
  const Config defaults;
  Config defaults_back;
  CHECK(sb::app::parse_config_text(sb::app::format_config(defaults), "d", defaults_back, errors));
  CHECK(defaults_back == defaults);
  CHECK(errors.empty());
  // Without domains, upstream stays a plain key.
  Config plain;
  plain.upstream = HostPort{"x.example", 5222};
  plain.node_id = "007";  // a string, not the integer 7
  const std::string plain_text = sb::app::format_config(plain);
  CHECK(plain_text.find("upstream = \"x.example:5222\"\n") != std::string::npos);
  CHECK(plain_text.find("[upstream]") == std::string::npos);
  Config plain_back;
  CHECK(sb::app::parse_config_text(plain_text, "p", plain_back, errors));
  CHECK(plain_back == plain);
}

TEST_CASE("validate_config: a runnable default needs only an upstream") {
  CHECK(sb::app::validate_config(runnable()).empty());
  const Config defaults;
  CHECK(sb::app::validate_config(defaults) ==
        std::vector<std::string>{"no XMPP server configured: set 'upstream', an "
                                 "'upstream.<domain>' or 'allowed_routes'"});
  Config by_domain;
  by_domain.domain_upstreams.emplace("a.example", HostPort{"h", 1});
  CHECK(sb::app::validate_config(by_domain).empty());
  Config by_route;
  by_route.allowed_routes.push_back({"h", 1});
  CHECK(sb::app::validate_config(by_route).empty());
}

TEST_CASE("validate_config: rules across keys, all reported together") {
  Config c = runnable();
  c.max_wait = 30;
  c.default_wait = 60;
  c.polling = 10;
  c.inactivity = 10;
  c.max_stanza_bytes = 2 * 1024 * 1024;
  const auto problems = sb::app::validate_config(c);
  REQUIRE(problems.size() == 3);
  CHECK(problems[0] == "'default_wait' (60) must not exceed 'max_wait' (30)");
  CHECK(problems[1] == "'inactivity' (10) must be longer than 'polling' (10)");
  CHECK(problems[2] ==
        "'max_session_queue_bytes' (1m) must be at least 'max_stanza_bytes' (2m): one whole "
        "stanza must fit");

  c = runnable();
  c.polling = 0;
  c.inactivity = 1;  // polling 0 = no frequency limit, so any inactivity will do
  CHECK(sb::app::validate_config(c).empty());
}

TEST_CASE("validate_config: demo_root must be an existing directory") {
  Config c = runnable();
  c.demo_root = std::filesystem::temp_directory_path().string();
  CHECK(sb::app::validate_config(c).empty());
  c.demo_root = "/nonexistent/switchboard-demo";
  CHECK(sb::app::validate_config(c) ==
        std::vector<std::string>{
            "'demo_root' '/nonexistent/switchboard-demo': No such file or directory"});
  c.demo_root = "/dev/null";
  CHECK(sb::app::validate_config(c) ==
        std::vector<std::string>{"'demo_root' '/dev/null' is not a directory"});
}

TEST_CASE("workers takes auto, and upstream_source_addresses takes addresses and ranges") {
  Config c;
  CHECK_FALSE(apply_setting(c, "workers", "auto"));
  CHECK(c.workers == 0);
  CHECK_FALSE(apply_setting(c, "workers", "12"));
  CHECK(c.workers == 12);
  CHECK(error_of("workers", "automatic") ==
        "'workers' must be auto or a whole number from 0 to 1024, got 'automatic'");

  CHECK_FALSE(
      apply_setting(c, "upstream_source_addresses", "127.0.0.2-127.0.0.9,  10.0.0.1  [::1]"));
  CHECK(c.upstream_source_addresses == "127.0.0.2-127.0.0.9, 10.0.0.1 [::1]");
  CHECK_FALSE(apply_setting(c, "upstream_source_addresses", ""));
  CHECK(c.upstream_source_addresses.empty());
  const std::string backwards = error_of("upstream_source_addresses", "127.0.0.9-127.0.0.2");
  CHECK(backwards.find("'upstream_source_addresses' must be IP addresses and ranges") == 0);
  CHECK(backwards.find("range '127.0.0.9-127.0.0.2' runs backwards") != std::string::npos);
  CHECK(error_of("upstream_source_addresses", "example.org")
            .find("'example.org' is not an IP address") != std::string::npos);
}

TEST_CASE("front-proxy and metrics keys: flags, versions, CIDR lists, a numeric metrics address") {
  Config c;
  CHECK_FALSE(apply_setting(c, "proxy_protocol", "true"));
  CHECK(c.proxy_protocol);
  CHECK(error_of("proxy_protocol", "yes") == "'proxy_protocol' must be true or false, got 'yes'");

  CHECK_FALSE(apply_setting(c, "upstream_proxy_protocol", "true"));
  CHECK(c.upstream_proxy_protocol == 2);
  CHECK_FALSE(apply_setting(c, "upstream_proxy_protocol", "v1"));
  CHECK(c.upstream_proxy_protocol == 1);
  CHECK_FALSE(apply_setting(c, "upstream_proxy_protocol", "false"));
  CHECK(c.upstream_proxy_protocol == 0);
  CHECK(error_of("upstream_proxy_protocol", "3") ==
        "'upstream_proxy_protocol' must be one of false, true (= v2), v1, v2, got '3'");

  CHECK_FALSE(apply_setting(c, "trusted_proxies", "127.0.0.1   10.0.0.0/8 ::1"));
  CHECK(c.trusted_proxies == "127.0.0.1 10.0.0.0/8 ::1");
  const std::string bad = error_of("trusted_proxies", "10.0.0.0/40");
  CHECK(bad.find("'trusted_proxies' must be IP addresses and CIDR blocks") == 0);
  CHECK(bad.find("'10.0.0.0/40'") != std::string::npos);

  CHECK_FALSE(apply_setting(c, "metrics_listen", "127.0.0.1:9280"));
  CHECK(c.metrics_listen == HostPort{"127.0.0.1", 9280});
  CHECK(error_of("metrics_listen", "localhost:9280").find("must be an IP address and port") !=
        std::string::npos);
  CHECK_FALSE(apply_setting(c, "metrics_listen", ""));
  CHECK_FALSE(c.metrics_listen.has_value());

  c.upstream = HostPort{"x.example", 5222};
  c.metrics_listen = c.listen;
  CHECK(sb::app::validate_config(c) ==
        std::vector<std::string>{
            "'metrics_listen' must not be the 'listen' address (127.0.0.1:5280)"});
}

TEST_CASE("agent_listen and drain") {
  Config c;
  CHECK_FALSE(c.agent_listen.has_value());
  CHECK_FALSE(c.drain);
  CHECK_FALSE(apply_setting(c, "agent_listen", "127.0.0.2:5290"));
  CHECK(c.agent_listen == HostPort{"127.0.0.2", 5290});
  CHECK(error_of("agent_listen", "node1:5290").find("must be an IP address and port") !=
        std::string::npos);
  CHECK_FALSE(apply_setting(c, "drain", "true"));
  CHECK(c.drain);

  c.upstream = HostPort{"x.example", 5222};
  CHECK(sb::app::validate_config(c).empty());
  c.metrics_listen = HostPort{"127.0.0.2", 5290};
  CHECK(sb::app::validate_config(c) ==
        std::vector<std::string>{
            "'agent_listen' must be an address of its own (not 'listen' or 'metrics_listen')"});
  c.metrics_listen.reset();
  c.agent_listen = c.listen;
  CHECK(sb::app::validate_config(c).size() == 1);
}
