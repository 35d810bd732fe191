// The config file format: comments, blank lines, every key, and errors reported
// with FILE:LINE for every bad line at once. Also checks that the shipped example
// file parses and that the documentation mentions every key.
#include "app/printing.hpp"

#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "app/config/config.hpp"
#include "app/config/config_file.hpp"

using sb::app::Config;
using sb::app::FileLoad;
using sb::app::LogLevel;
using sb::app::parse_config_text;
using sb::base::HostPort;

namespace {
std::vector<std::string> errors_of(std::string_view text) {
  Config config;
  std::vector<std::string> errors;
  CHECK_FALSE(parse_config_text(text, "sb.conf", config, errors));
  return errors;
}

// The repository root, found from this file's path (tests/unit/app/config/).
std::filesystem::path repo_root() {
  const std::filesystem::path here(__FILE__);
  return here.parent_path().parent_path().parent_path().parent_path().parent_path();
}
}  // namespace

TEST_CASE("every key is read from a TOML file") {
  const char* text = R"(# a full file
listen = "0.0.0.0:5281"
bosh_path = "/bosh"
workers = 4
upstream."*" = "xmpp.example.com:5222"
upstream.example.org = "10.0.0.2:5222"
upstream."example.net" = "[fd00::1]:5223"
allowed_routes = ["a.example:5222", "b.example:5269"]
cors_origins = [
  "https://chat.example.com",   # one per line is fine
  "http://localhost:8080",
]
demo_root = "/srv/demo"
node_id = "n2"
max_wait = 90
default_wait = 45
max_hold = 2
inactivity = 75
polling = 3
maxpause = 300
max_body_bytes = "128k"
max_header_bytes = 16384
max_stanza_bytes = "1m"
max_session_queue_bytes = "4M"
upstream_connect_timeout = 5
http_idle_timeout = 60
http_header_timeout = 7
max_sessions_per_ip = 50
max_sessions = 19_000
log_level = "debug"
log_file = "/var/log/switchboard.log"
)";
  Config c;
  std::vector<std::string> errors;
  CHECK(parse_config_text(text, "full.conf", c, errors));
  CHECK(errors == std::vector<std::string>{});
  CHECK(c.listen == HostPort{"0.0.0.0", 5281});
  CHECK(c.bosh_path == "/bosh");
  CHECK(c.workers == 4);
  CHECK(c.upstream == HostPort{"xmpp.example.com", 5222});
  CHECK(c.domain_upstreams.size() == 2);
  CHECK(c.domain_upstreams.at("example.org") == HostPort{"10.0.0.2", 5222});
  CHECK(c.domain_upstreams.at("example.net") == HostPort{"fd00::1", 5223});
  CHECK(c.allowed_routes == std::vector<HostPort>{{"a.example", 5222}, {"b.example", 5269}});
  CHECK(c.cors_origins ==
        std::vector<std::string>{"https://chat.example.com", "http://localhost:8080"});
  CHECK(c.demo_root == "/srv/demo");
  CHECK(c.node_id == "n2");
  CHECK(c.max_wait == 90);
  CHECK(c.default_wait == 45);
  CHECK(c.max_hold == 2);
  CHECK(c.inactivity == 75);
  CHECK(c.polling == 3);
  CHECK(c.maxpause == 300);
  CHECK(c.max_body_bytes == 128 * 1024);
  CHECK(c.max_header_bytes == 16 * 1024);
  CHECK(c.max_stanza_bytes == 1024 * 1024);
  CHECK(c.max_session_queue_bytes == 4 * 1024 * 1024);
  CHECK(c.upstream_connect_timeout == 5);
  CHECK(c.http_idle_timeout == 60);
  CHECK(c.http_header_timeout == 7);
  CHECK(c.max_sessions_per_ip == 50);
  CHECK(c.max_sessions == 19000);
  CHECK(c.log_level == LogLevel::kDebug);
  CHECK(c.log_file == "/var/log/switchboard.log");
}

// The keys that came with the HTTPS listener, WebSocket, metrics and the front
// proxies, written as an operator would: booleans bare, lists as arrays.
TEST_CASE("the listener, WebSocket, metrics and proxy keys are read from a TOML file") {
  const char* text = R"(listen = "0.0.0.0:5280"
tls_listen = "[::]:5281"
tls_cert_file = "/etc/ssl/chain.pem"
tls_key_file = "/etc/ssl/key.pem"
websocket_path = "/ws"
public_bosh_url = "https://chat.example.com/http-bind"
public_websocket_url = "wss://chat.example.com/ws"
websocket_ping_interval = 20
websocket_pong_timeout = 5
metrics_listen = "127.0.0.1:9280"
proxy_protocol = true
trusted_proxies = ["127.0.0.1", "10.0.0.0/8", "fd00::/8"]
upstream_proxy_protocol = "v1"
upstream = "localhost:5222"
)";
  Config c;
  std::vector<std::string> errors;
  CHECK(parse_config_text(text, "new.conf", c, errors));
  CHECK(errors == std::vector<std::string>{});
  CHECK(c.tls_listen == HostPort{"::", 5281});
  CHECK(c.tls_cert_file == "/etc/ssl/chain.pem");
  CHECK(c.tls_key_file == "/etc/ssl/key.pem");
  CHECK(c.websocket_path == "/ws");
  CHECK(c.public_bosh_url == "https://chat.example.com/http-bind");
  CHECK(c.public_websocket_url == "wss://chat.example.com/ws");
  CHECK(c.websocket_ping_interval == 20);
  CHECK(c.websocket_pong_timeout == 5);
  CHECK(c.metrics_listen == HostPort{"127.0.0.1", 9280});
  CHECK(c.proxy_protocol);
  CHECK(c.trusted_proxies == "127.0.0.1 10.0.0.0/8 fd00::/8");
  CHECK(c.upstream_proxy_protocol == 1);

  // Bad values are reported with their line, as for every other key.
  Config d;
  errors.clear();
  CHECK_FALSE(
      parse_config_text("proxy_protocol = \"maybe\"\nupstream_proxy_protocol = 3\n"
                        "trusted_proxies = [\"10.0.0.0/33\"]\n",
                        "bad.conf", d, errors));
  REQUIRE(errors.size() == 3);
  CHECK(errors[0] == "bad.conf:1: 'proxy_protocol' must be true or false, got 'maybe'");
  CHECK(errors[1] ==
        "bad.conf:2: 'upstream_proxy_protocol' must be one of false, true (= v2), "
        "v1, v2, got '3'");
  CHECK(
      errors[2].starts_with("bad.conf:3: 'trusted_proxies' must be IP addresses and CIDR blocks"));
}

TEST_CASE("the [upstream] table: domains, the default under \"*\", dotted keys") {
  const char* text = R"(max_wait = 30
[upstream]
"*" = "default.example:5222"
"Example.ORG" = "eu.example:5222"
chat.example.net = "net.example:5223"
)";
  Config c;
  std::vector<std::string> errors;
  CHECK(parse_config_text(text, "f", c, errors));
  CHECK(errors == std::vector<std::string>{});
  CHECK(c.max_wait == 30);
  CHECK(c.upstream == HostPort{"default.example", 5222});
  CHECK(c.domain_upstreams.size() == 2);
  CHECK(c.domain_upstreams.at("example.org") == HostPort{"eu.example", 5222});
  CHECK(c.domain_upstreams.at("chat.example.net") == HostPort{"net.example", 5223});
}

TEST_CASE("a plain upstream next to per-domain ones: the message says to use \"*\"") {
  const auto errors = errors_of("upstream = \"a:1\"\nupstream.example.org = \"b:2\"\n");
  REQUIRE(errors.size() == 1);
  CHECK(errors[0].starts_with("sb.conf:2:"));
  CHECK(
      errors[0].ends_with("(with per-domain servers, `upstream` is a table: write the default "
                          "server as upstream.\"*\" = \"host:port\")"));
}

TEST_CASE("TOML values are read as the text --set takes") {
  Config c;
  std::vector<std::string> errors;
  // A list may also be one string of space-separated items; a number may be a
  // string; a boolean may be "true".
  CHECK(
      parse_config_text("cors_origins = \"https://a.example https://b.example\"\n"
                        "max_wait = \"90\"\nupstream_tls_verify = \"false\"\n"
                        "workers = \"auto\"\nallowed_routes = []\nupstream = \"\"\n",
                        "f", c, errors));
  CHECK(errors == std::vector<std::string>{});
  CHECK(c.cors_origins == std::vector<std::string>{"https://a.example", "https://b.example"});
  CHECK(c.max_wait == 90);
  CHECK_FALSE(c.upstream_tls_verify);
  CHECK(c.workers == 0);
  CHECK(c.allowed_routes.empty());
  CHECK_FALSE(c.upstream.has_value());
  // Floats, dates, nested lists and items with spaces are refused by the key.
  CHECK(errors_of("max_wait = 1.5\n") ==
        std::vector<std::string>{
            "sb.conf:1: 'max_wait' must be a whole number of seconds from 1 to 3600, got '1.5'"});
  CHECK(errors_of("max_wait = -4\n") ==
        std::vector<std::string>{
            "sb.conf:1: 'max_wait' must be a whole number of seconds from 1 to 3600, got '-4'"});
  CHECK(errors_of("cors_origins = [[\"x\"]]\n") ==
        std::vector<std::string>{
            "sb.conf:1: 'cors_origins' must be a list of strings, not of arrays or tables"});
  CHECK(errors_of("cors_origins = [\"https://a https://b\"]\n") ==
        std::vector<std::string>{"sb.conf:1: 'cors_origins' list items must be non-empty and "
                                 "without spaces, got 'https://a https://b'"});
  CHECK(errors_of("max_wait = { a = 1 }\n") ==
        std::vector<std::string>{"sb.conf:1: 'max_wait' must be a value, not a table"});
}

TEST_CASE("an empty file or only comments gives the defaults") {
  Config c;
  std::vector<std::string> errors;
  CHECK(parse_config_text("", "f", c, errors));
  CHECK(parse_config_text("# nothing\n\n", "f", c, errors));
  // A named Config, not a temporary inside CHECK(): GCC 12 at -O3 reports a false
  // -Wmaybe-uninitialized on the temporary in doctest's expression decomposition.
  const Config defaults;
  CHECK(c == defaults);
}

TEST_CASE("bad keys are reported with file and line number") {
  CHECK(errors_of("\n\nwait = 60\n") == std::vector<std::string>{"sb.conf:3: unknown key 'wait'"});
  CHECK(errors_of("max_wait = \"soon\"\n") ==
        std::vector<std::string>{
            "sb.conf:1: 'max_wait' must be a whole number of seconds from 1 to 3600, got 'soon'"});
  CHECK(errors_of("[limits]\nmax_wait = 60\n") ==
        std::vector<std::string>{"sb.conf:1: unknown table 'limits': every key except the "
                                 "[upstream] table goes at the top level"});
  CHECK(errors_of("[max_wait]\n") ==
        std::vector<std::string>{"sb.conf:1: 'max_wait' must be a value, not a table"});
}

TEST_CASE("syntax errors have a line and column, and each one is reported") {
  bool syntax = false;
  Config c;
  std::vector<std::string> errors;
  CHECK_FALSE(
      parse_config_text("max_wait = 60\nmax_wait 61\nmax_hold = 3\nmax_hold = 4\n"
                        "inactivity = 0\n",
                        "f", c, errors, &syntax));
  CHECK(syntax);
  REQUIRE(errors.size() == 3);
  CHECK(errors[0].starts_with("f:2:10: "));
  CHECK(errors[1].starts_with("f:4:"));
  CHECK(errors[1].find("max_hold") != std::string::npos);  // TOML refuses a repeated key
  // The keys of the lines that parsed are still checked.
  CHECK(errors[2] ==
        "f:5: 'inactivity' must be a whole number of seconds from 1 to 86400, got '0'");
  CHECK(c.max_wait == 60);
  CHECK(c.max_hold == 3);
}

TEST_CASE("a file in the old key = value format is answered with the TOML line to write") {
  const char* text =
      "# old\n"
      "listen = 0.0.0.0:5280   # comment\n"
      "upstream = localhost:5222\n"
      "max_wait = 60\n"
      "cors_origins = https://a.example https://b.example\n"
      "demo_root =\n"
      "upstream.example.org = xmpp.example.org:5222\n";
  const auto errors = errors_of(text);
  REQUIRE(errors.size() == 5);
  CHECK(errors[0].starts_with("sb.conf:2:"));
  CHECK(errors[0].find("write: listen = \"0.0.0.0:5280\" (the config file is TOML") !=
        std::string::npos);
  // With per-domain lines in the file, the default server goes under "*".
  CHECK(errors[1].ends_with("write: upstream.\"*\" = \"localhost:5222\""));
  CHECK(
      errors[2].ends_with("write: cors_origins = [\"https://a.example\", \"https://b.example\"]"));
  CHECK(errors[3].ends_with("write: demo_root = \"\""));
  CHECK(errors[4].starts_with("sb.conf:7:"));
  CHECK(errors[4].ends_with("write: upstream.example.org = \"xmpp.example.org:5222\""));
}

TEST_CASE("every bad key is reported, and good keys still apply") {
  const char* text =
      "max_wait = 0\n"
      "# fine\n"
      "workers = 2\n"
      "listen = \"nowhere\"\n"
      "colour = \"blue\"\n"
      "max_body_bytes = \"1g\"\n"
      "log_level = \"loud\"\n"
      "[upstream]\n"
      "\"example.ORG\" = \"a:1\"\n"
      "\"Example.org\" = \"b:1\"\n"
      "max_hold = 2\n";
  Config c;
  std::vector<std::string> errors;
  CHECK_FALSE(parse_config_text(text, "/etc/sb.conf", c, errors));
  REQUIRE(errors.size() == 7);
  CHECK(errors[0].starts_with("/etc/sb.conf:1: 'max_wait' must be"));
  CHECK(errors[1] ==
        "/etc/sb.conf:4: 'listen' must be host:port or [IPv6]:port: missing port in 'nowhere'");
  CHECK(errors[2] == "/etc/sb.conf:5: unknown key 'colour'");
  CHECK(errors[3].starts_with("/etc/sb.conf:6: 'max_body_bytes' must be"));
  CHECK(errors[4].starts_with("/etc/sb.conf:7: 'log_level' must be"));
  CHECK(errors[5] == "/etc/sb.conf:10: 'upstream.Example.org' is already set on line 9");
  // A key written below [upstream] lands in the table: the message says so.
  CHECK(errors[6].starts_with("/etc/sb.conf:11: 'upstream.max_hold' must be host:port"));
  CHECK(
      errors[6].ends_with("(keys below an [upstream] header belong to that table: move "
                          "[upstream] to the end of the file)"));
  CHECK(c.workers == 2);  // the good key applied, the repeat did not
  CHECK(c.domain_upstreams.at("example.org") == HostPort{"a", 1});
}

TEST_CASE("errors are appended after earlier ones") {
  Config c;
  std::vector<std::string> errors{"earlier"};
  CHECK_FALSE(parse_config_text("x = 1\n", "f", c, errors));
  CHECK(errors == std::vector<std::string>{"earlier", "f:1: unknown key 'x'"});
}

TEST_CASE("load_config_file reads a file and names unreadable ones") {
  char path[] = "/tmp/sb-config-test-XXXXXX";
  const int fd = mkstemp(path);
  REQUIRE(fd >= 0);
  const std::string text = "max_wait = 42\nbogus = 1\n";  // valid TOML, one bad key
  REQUIRE(write(fd, text.data(), text.size()) == static_cast<ssize_t>(text.size()));
  close(fd);

  Config c;
  std::vector<std::string> errors;
  CHECK(sb::app::load_config_file(path, c, errors) == FileLoad::kBadLines);
  CHECK(c.max_wait == 42);
  CHECK(errors == std::vector<std::string>{std::string(path) + ":2: unknown key 'bogus'"});
  unlink(path);

  errors.clear();
  CHECK(sb::app::load_config_file(path, c, errors) == FileLoad::kUnreadable);
  CHECK(errors ==
        std::vector<std::string>{std::string(path) + ": cannot read: No such file or directory"});
  errors.clear();
  CHECK(sb::app::load_config_file("/tmp", c, errors) == FileLoad::kUnreadable);
  CHECK(errors == std::vector<std::string>{"/tmp: cannot read: Is a directory"});
}

TEST_CASE("deploy/switchboard.conf.example parses cleanly and validates") {
  const auto path = repo_root() / "deploy" / "switchboard.conf.example";
  Config c;
  std::vector<std::string> errors;
  CHECK(sb::app::load_config_file(path.string(), c, errors) == FileLoad::kClean);
  CHECK(errors == std::vector<std::string>{});
  c.demo_root.clear();  // the example names a directory that exists only when installed
  CHECK(sb::app::validate_config(c) == std::vector<std::string>{});
}

TEST_CASE("docs/configuration.md and the example mention every key") {
  for (const char* doc : {"docs/configuration.md", "deploy/switchboard.conf.example"}) {
    std::ifstream file(repo_root() / doc);
    REQUIRE(file.good());
    std::stringstream text;
    text << file.rdbuf();
    for (std::string_view key : sb::app::config_key_names()) {
      INFO(doc << " lacks " << key);
      CHECK(text.str().find(std::string(key) + " =") != std::string::npos);
    }
  }
}
