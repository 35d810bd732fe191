// The command line: option forms, precedence over the config file whatever the
// order, --set, --check-config and the exit codes report_cli_outcome gives.
#include "app/printing.hpp"

#include <unistd.h>

#include <cstdio>
#include <initializer_list>

#include "app/config/cli.hpp"

using sb::app::CliResult;
using sb::app::LogLevel;
using sb::base::HostPort;

namespace {
CliResult run(std::initializer_list<std::string> args) {
  std::vector<std::string> storage{"switchboard"};
  storage.insert(storage.end(), args.begin(), args.end());
  std::vector<char*> argv;
  for (auto& arg : storage) argv.push_back(arg.data());
  argv.push_back(nullptr);
  return sb::app::parse_command_line(static_cast<int>(storage.size()), argv.data());
}

// A config file in /tmp, removed when the test ends.
struct TempConfig {
  explicit TempConfig(const std::string& text) {
    const int fd = mkstemp(path);
    REQUIRE(fd >= 0);
    REQUIRE(write(fd, text.data(), text.size()) == static_cast<ssize_t>(text.size()));
    close(fd);
  }
  ~TempConfig() { unlink(path); }
  TempConfig(const TempConfig&) = delete;
  TempConfig& operator=(const TempConfig&) = delete;
  char path[32] = "/tmp/sb-cli-test-XXXXXX";
};

// Runs report_cli_outcome with both streams captured.
struct Outcome {
  int code = -1;
  std::string out;
  std::string err;
};
std::string slurp(std::FILE* file) {
  std::rewind(file);
  std::string text;
  for (int c = std::fgetc(file); c != EOF; c = std::fgetc(file))
    text.push_back(static_cast<char>(c));
  std::fclose(file);
  return text;
}
Outcome report(const CliResult& result) {
  std::FILE* out = std::tmpfile();
  std::FILE* err = std::tmpfile();
  REQUIRE(out != nullptr);
  REQUIRE(err != nullptr);
  Outcome outcome;
  outcome.code = sb::app::report_cli_outcome(result, "switchboard", out, err);
  outcome.out = slurp(out);
  outcome.err = slurp(err);
  return outcome;
}
}  // namespace

TEST_CASE("no arguments but an upstream: run with defaults") {
  const auto r = run({"--upstream", "localhost:5222"});
  CHECK(r.action == CliResult::kRun);
  CHECK(r.errors.empty());
  CHECK(r.config.upstream == HostPort{"localhost", 5222});
  CHECK(r.config.listen == HostPort{"127.0.0.1", 5280});
}

TEST_CASE("shortcut options set their keys, in both --opt v and --opt=v forms") {
  const auto r =
      run({"--listen", "0.0.0.0:80", "--upstream=h:1", "--workers", "1", "--log-level=warn"});
  CHECK(r.errors.empty());
  CHECK(r.config.listen == HostPort{"0.0.0.0", 80});
  CHECK(r.config.upstream == HostPort{"h", 1});
  CHECK(r.config.workers == 1);
  CHECK(r.config.log_level == LogLevel::kWarn);
}

TEST_CASE("command-line values beat the file, whatever their order") {
  TempConfig file("upstream = \"file.example:5222\"\nmax_wait = 100\nlog_level = \"debug\"\n");
  for (const auto& r :
       {run({"--log-level", "warn", "-c", file.path, "--set", "max_wait=90"}),
        run({"--config", file.path, "--log-level", "warn", "--set=max_wait = 90"}),
        run({std::string("-c") + file.path, "--set", "max_wait=90", "--log-level=warn"})}) {
    CHECK(r.action == CliResult::kRun);
    CHECK(r.errors == std::vector<std::string>{});
    CHECK(r.config_path == file.path);
    CHECK(r.config.log_level == LogLevel::kWarn);
    CHECK(r.config.max_wait == 90);
    CHECK(r.config.upstream == HostPort{"file.example", 5222});  // untouched file value
  }
}

TEST_CASE("between two command-line values for one key, the later wins") {
  const auto r = run({"--upstream", "a:1", "--set", "upstream=b:2", "--workers", "3", "--set",
                      "workers=1", "--set", "upstream.x.org=c:3"});
  CHECK(r.errors.empty());
  CHECK(r.config.upstream == HostPort{"b", 2});
  CHECK(r.config.workers == 1);
  CHECK(r.config.domain_upstreams.at("x.org") == HostPort{"c", 3});
  REQUIRE(r.overrides.size() == 5);
  CHECK(r.overrides[1].origin == "--set");
  CHECK(r.overrides[2].origin == "--workers");
}

TEST_CASE("workers: 0 (one per core) and 1 to 1024 run, more is refused") {
  for (const char* count : {"0", "1", "4", "1024"}) {
    const auto r = run({"--upstream", "a:1", "--workers", count});
    CHECK(r.action == CliResult::kRun);
    CHECK(r.errors.empty());
    CHECK(r.config.workers == std::stoul(count));
  }
  const auto r = run({"--upstream", "a:1", "--workers", "1025"});
  CHECK(r.action == CliResult::kError);
  CHECK(r.errors ==
        std::vector<std::string>{
            "--workers: 'workers' must be auto or a whole number from 0 to 1024, got '1025'"});
}

TEST_CASE("--set errors say --set, option errors name their option") {
  const auto r = run({"--upstream", "h:1", "--set", "max_wait=never", "--set", "colour=blue",
                      "--set", "nokey", "--set", "=3", "--workers", "many", "--listen", "[::1]"});
  CHECK(r.action == CliResult::kError);
  CHECK(r.errors ==
        std::vector<std::string>{
            "--set: expected key=value, got 'nokey'",
            "--set: expected key=value, got '=3'",
            "--set: 'max_wait' must be a whole number of seconds from 1 to 3600, "
            "got 'never'",
            "--set: unknown key 'colour'",
            "--workers: 'workers' must be auto or a whole number from 0 to 1024, got 'many'",
            "--listen: 'listen' must be host:port or [IPv6]:port: missing port in "
            "'[::1]'",
        });
}

TEST_CASE("bad options and arguments are all reported") {
  const auto r = run(
      {"--frobnicate", "-x", "stray", "--help=yes", "--upstream", "h:1", "--", "-t", "--workers"});
  CHECK(r.action == CliResult::kError);
  CHECK(r.errors == std::vector<std::string>{
                        "unknown option '--frobnicate' (try --help)",
                        "unknown option '-x' (try --help)",
                        "unexpected argument 'stray' (try --help)",
                        "option '--help' takes no value",
                        "unexpected argument '-t' (try --help)",
                        "unexpected argument '--workers' (try --help)",
                    });
  CHECK(run({"--upstream"}).errors.front() == "option '--upstream' needs a value");
  CHECK(run({"-c"}).errors.front() == "option '-c' needs a value");
  CHECK(run({"-c", "/a", "-c", "/b"}).errors.front() == "--config: given more than once");
}

TEST_CASE("help and version win and load nothing") {
  auto r = run({"--config", "/nonexistent", "-h"});
  CHECK(r.action == CliResult::kHelp);
  CHECK(r.errors.empty());
  auto out = report(r);
  CHECK(out.code == 0);
  CHECK(out.out.starts_with("Usage: switchboard [options]\n"));
  CHECK(out.out.find("--check-config") != std::string::npos);
  CHECK(out.out.find("max_session_queue_bytes") != std::string::npos);
  CHECK(out.err.empty());

  r = run({"--version", "--bogus"});
  CHECK(r.action == CliResult::kVersion);
  out = report(r);
  CHECK(out.code == 0);
  CHECK(out.out == "switchboard 0.2.0\n");
}

TEST_CASE("--check-config: every problem, one per line, exit 1") {
  TempConfig file("max_wait = 0\nlisten = \"x\"\nmax_hold = 99\n");
  const auto r = run({"-t", "-c", file.path, "--set", "polling=1000000"});
  CHECK(r.action == CliResult::kCheckOnly);
  REQUIRE(r.errors.size() == 5);
  CHECK(r.errors[0].starts_with(std::string(file.path) + ":1: 'max_wait'"));
  CHECK(r.errors[1].starts_with(std::string(file.path) + ":2: 'listen'"));
  CHECK(r.errors[2].starts_with(std::string(file.path) + ":3: 'max_hold'"));
  CHECK(r.errors[3].starts_with("--set: 'polling'"));
  CHECK(r.errors[4].starts_with("no XMPP server configured"));
  const auto out = report(r);
  CHECK(out.code == 1);
  CHECK(out.out.empty());
  std::string expected;
  for (const auto& e : r.errors) expected += e + "\n";
  CHECK(out.err == expected);
}

TEST_CASE("--check-config on a good configuration: 'configuration ok', exit 0") {
  TempConfig file("upstream = \"xmpp.example.com:5222\"\n");
  const auto r = run({"--check-config", "--config", file.path});
  CHECK(r.action == CliResult::kCheckOnly);
  CHECK(r.errors.empty());
  const auto out = report(r);
  CHECK(out.code == 0);
  CHECK(out.out == "configuration ok\n");
  CHECK(out.err.empty());
}

TEST_CASE("a missing config file is an error, and cross-key rules see the overrides") {
  auto r = run({"-c", "/nonexistent/sb.conf", "--upstream", "h:1"});
  CHECK(r.action == CliResult::kError);
  CHECK(r.errors ==
        std::vector<std::string>{"/nonexistent/sb.conf: cannot read: No such file or directory"});

  // The unreadable file is the one problem named: no "no XMPP server configured"
  // about the upstream it may hold (switchboard -c /nonexistent --check-config).
  r = run({"-c", "/nonexistent/sb.conf", "--check-config"});
  CHECK(r.action == CliResult::kCheckOnly);
  CHECK(r.errors ==
        std::vector<std::string>{"/nonexistent/sb.conf: cannot read: No such file or directory"});
  CHECK(report(r).err == "/nonexistent/sb.conf: cannot read: No such file or directory\n");

  r = run({"--upstream", "h:1", "--set", "default_wait=200", "--set", "max_wait=300"});
  CHECK(r.errors.empty());
  r = run({"--upstream", "h:1", "--set", "default_wait=200"});
  CHECK(r.errors ==
        std::vector<std::string>{"'default_wait' (200) must not exceed 'max_wait' (120)"});
  const auto out = report(r);
  CHECK(out.code == 1);
  CHECK(out.err == "'default_wait' (200) must not exceed 'max_wait' (120)\n");
}

TEST_CASE("a file that is not TOML: its syntax errors, no cross-key rules") {
  TempConfig file("upstream = a:1\nmax_hold = 4\n");
  const auto r = run({"-t", "-c", file.path});
  CHECK(r.action == CliResult::kCheckOnly);
  REQUIRE(r.errors.size() == 1);  // not also "no XMPP server configured"
  CHECK(r.errors[0].starts_with(std::string(file.path) + ":1:"));
  CHECK(r.errors[0].find("write: upstream = \"a:1\"") != std::string::npos);
}

TEST_CASE("--set takes unquoted text, lists space-separated, and upstream.* for the default") {
  const auto r = run({"--set", "cors_origins=https://a.example https://b.example", "--set",
                      "upstream.*=d.example:5222", "--set", "upstream.x.org=c:3"});
  CHECK(r.errors == std::vector<std::string>{});
  CHECK(r.config.cors_origins ==
        std::vector<std::string>{"https://a.example", "https://b.example"});
  CHECK(r.config.upstream == HostPort{"d.example", 5222});
  CHECK(r.config.domain_upstreams.at("x.org") == HostPort{"c", 3});
}

TEST_CASE("load_config replays the same overrides over a re-read file (reload)") {
  TempConfig file("upstream = \"a:1\"\nmax_hold = 4\n");
  const auto r = run({"-c", file.path, "--set", "max_hold=2"});
  REQUIRE(r.errors.empty());
  std::vector<std::string> errors;
  const auto again = sb::app::load_config(r.config_path, r.overrides, errors);
  CHECK(errors.empty());
  CHECK(again == r.config);
}
