// The config file format: comments, blank lines, every key, and errors reported
// with FILE:LINE for every bad line at once. Also checks that the shipped example
// file parses and that the documentation mentions every key.
#include "app/printing.hpp"

#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "app/config.hpp"
#include "app/config_file.hpp"

using sb::app::Config;
using sb::app::FileLoad;
using sb::app::HostPort;
using sb::app::LogLevel;
using sb::app::parse_config_text;

namespace {
std::vector<std::string> errors_of(std::string_view text) {
  Config config;
  std::vector<std::string> errors;
  CHECK_FALSE(parse_config_text(text, "sb.conf", config, errors));
  return errors;
}

// The repository root, found from this file's path (tests/unit/app/).
std::filesystem::path repo_root() {
  return std::filesystem::path(__FILE__).parent_path().parent_path().parent_path().parent_path();
}
}  // namespace

TEST_CASE("every key is read from a file") {
  const char* text = R"(# a full file
listen = 0.0.0.0:5281
bosh_path = /bosh
workers = 4
upstream = xmpp.example.com:5222
upstream.example.org = 10.0.0.2:5222
upstream.example.net = [fd00::1]:5223
allowed_routes = a.example:5222 b.example:5269
cors_origins = https://chat.example.com http://localhost:8080
demo_root = /srv/demo
node_id = n2
max_wait = 90
default_wait = 45
max_hold = 2
inactivity = 75
polling = 3
maxpause = 300
max_body_bytes = 128k
max_header_bytes = 16k
max_stanza_bytes = 1m
max_session_queue_bytes = 4m
upstream_connect_timeout = 5
http_idle_timeout = 60
http_header_timeout = 7
max_sessions_per_ip = 50
max_sessions = 19000
log_level = debug
)";
  Config c;
  std::vector<std::string> errors;
  CHECK(parse_config_text(text, "full.conf", c, errors));
  CHECK(errors.empty());
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
}

TEST_CASE("comments, blank lines, spacing and CRLF") {
  const char* text =
      "\n"
      "   # indented comment\n"
      "max_wait=30\n"
      "\tdefault_wait   =\t20   # trailing comment\n"
      "polling = 1\r\n"
      "   \t  \n"
      "inactivity = 61";           // no final newline
  Config c;
  std::vector<std::string> errors;
  CHECK(parse_config_text(text, "f", c, errors));
  CHECK(errors.empty());
  CHECK(c.max_wait == 30);
  CHECK(c.default_wait == 20);
  CHECK(c.polling == 1);
  CHECK(c.inactivity == 61);
  // A '#' that does not follow whitespace is part of the value (here, a bad one).
  CHECK(errors_of("bosh_path = /a#b\n") ==
        std::vector<std::string>{
            "sb.conf:1: 'bosh_path' must be a URL path starting with '/' (no spaces, '?' or "
            "'#'), got '/a#b'"});
  CHECK(errors_of("cors_origins = *# x\n").size() == 1);
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

TEST_CASE("bad lines are reported with file and line number") {
  CHECK(errors_of("\n\nwait = 60\n") ==
        std::vector<std::string>{"sb.conf:3: unknown key 'wait'"});
  CHECK(errors_of("max_wait = soon\n") ==
        std::vector<std::string>{
            "sb.conf:1: 'max_wait' must be a whole number of seconds from 1 to 3600, got 'soon'"});
  CHECK(errors_of("max_wait 60\n") ==
        std::vector<std::string>{"sb.conf:1: expected 'key = value', got 'max_wait 60'"});
  CHECK(errors_of(" = 60\n") == std::vector<std::string>{"sb.conf:1: missing key before '='"});
}

TEST_CASE("every bad line is reported, and good lines still apply") {
  const char* text =
      "max_wait = 0\n"
      "# fine\n"
      "workers = 2\n"
      "listen = nowhere\n"
      "colour = blue\n"
      "max_body_bytes = 1g\n"
      "log_level = loud\n"
      "workers = 3\n"
      "upstream.Example.org = a:1\n"
      "upstream.example.ORG = b:1\n";
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
  CHECK(errors[5] == "/etc/sb.conf:8: 'workers' is already set on line 3");
  CHECK(errors[6] == "/etc/sb.conf:10: 'upstream.example.ORG' is already set on line 9");
  CHECK(c.workers == 2);  // the good line applied, the duplicate did not
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
  const std::string text = "max_wait = 42\nbogus = 1\n";
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
  CHECK(errors == std::vector<std::string>{std::string(path) +
                                           ": cannot read: No such file or directory"});
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
