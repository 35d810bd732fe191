// A worker's command line carries the supervisor's whole configuration and its
// index, and parses back into exactly that configuration.
#include "app/printing.hpp"

#include <string>
#include <vector>

#include "app/config/cli.hpp"
#include "app/process/worker_launch.hpp"

using namespace sb::app;
using sb::base::HostPort;

namespace {
std::vector<char*> argv_of(std::vector<std::string>& args) {
  std::vector<char*> argv;
  for (auto& arg : args) argv.push_back(arg.data());
  argv.push_back(nullptr);
  return argv;
}
}  // namespace

TEST_CASE("a worker's arguments give back the supervisor's configuration") {
  Config config;
  config.listen = HostPort{"::1", 8080};
  config.workers = 7;
  config.upstream = HostPort{"xmpp.example.org", 5222};
  config.domain_upstreams["example.com"] = HostPort{"10.0.0.5", 5223};
  config.cors_origins = {"https://a.example", "https://b.example"};
  config.node_id = "n3";
  config.max_wait = 45;
  config.default_wait = 30;
  config.log_level = LogLevel::kDebug;

  std::vector<std::string> args = worker_arguments("/usr/bin/switchboard", config, 5);
  REQUIRE(args.size() > 3);
  CHECK(args[0] == "/usr/bin/switchboard");
  CHECK(args[1] == "--worker-index");
  CHECK(args[2] == "5");

  std::vector<char*> argv = argv_of(args);
  std::string error;
  const auto launch = worker_launch_from(static_cast<int>(args.size()), argv.data(), error);
  REQUIRE(launch.has_value());
  CHECK(error.empty());
  CHECK(launch->index == 5);
  CHECK(launch->cli_args.front() == "/usr/bin/switchboard");

  std::vector<std::string> rest = launch->cli_args;
  std::vector<char*> rest_argv = argv_of(rest);
  const CliResult cli = parse_command_line(static_cast<int>(rest.size()), rest_argv.data());
  CHECK(cli.errors == std::vector<std::string>{});
  CHECK(cli.action == CliResult::kRun);
  CHECK(cli.config == config);
}

TEST_CASE("an ordinary command line is not a worker's, a bad index is an error") {
  std::string error;
  std::vector<std::string> plain{"switchboard", "--workers", "4"};
  auto argv = argv_of(plain);
  CHECK_FALSE(worker_launch_from(3, argv.data(), error).has_value());
  CHECK(error.empty());
  for (const char* index : {"", "x", "-1", "1024", "3x"}) {
    std::vector<std::string> bad{"switchboard", "--worker-index", index};
    auto bad_argv = argv_of(bad);
    CHECK(worker_launch_from(3, bad_argv.data(), error).has_value());
    CHECK(error == "--worker-index needs a worker index from 0 to 1023");
  }
  std::vector<std::string> missing{"switchboard", "--worker-index"};
  auto missing_argv = argv_of(missing);
  CHECK(worker_launch_from(2, missing_argv.data(), error).has_value());
  CHECK_FALSE(error.empty());
}

TEST_CASE("workers = 0 means one per core, other counts stay") {
  CHECK(resolve_worker_count(0) >= 1);
  CHECK(resolve_worker_count(0) <= 1024);
  CHECK(resolve_worker_count(1) == 1);
  CHECK(resolve_worker_count(100) == 100);
}

TEST_CASE("the listen address in the listener's spelling") {
  Config config;
  config.listen = HostPort{"0.0.0.0", 5280};
  CHECK(listen_address(config) == "0.0.0.0:5280");
  config.listen = HostPort{"::", 443};
  CHECK(listen_address(config) == "[::]:443");
}

TEST_CASE("--worker-board after the index says the ListenBoard is on fd 4") {
  Config config;
  config.workers = 2;
  std::vector<std::string> args = worker_arguments("switchboard", config, 1, true);
  REQUIRE(args.size() > 3);
  CHECK(args[3] == "--worker-board");
  std::vector<char*> argv = argv_of(args);
  std::string error;
  auto launch = worker_launch_from(static_cast<int>(args.size()), argv.data(), error);
  REQUIRE(launch.has_value());
  CHECK(error.empty());
  CHECK(launch->board);
  CHECK(launch->index == 1);
  CHECK(launch->cli_args.at(1) == "--set");  // the flag is not passed on as an option

  std::vector<std::string> plain = worker_arguments("switchboard", config, 1);
  std::vector<char*> plain_argv = argv_of(plain);
  launch = worker_launch_from(static_cast<int>(plain.size()), plain_argv.data(), error);
  REQUIRE(launch.has_value());
  CHECK_FALSE(launch->board);
}

TEST_CASE("--worker-metrics says the MetricsBoard is on fd 5, with or without the board") {
  Config config;
  config.workers = 2;
  for (bool board : {true, false}) {
    std::vector<std::string> args = worker_arguments("switchboard", config, 1, board, true);
    std::vector<char*> argv = argv_of(args);
    std::string error;
    auto launch = worker_launch_from(static_cast<int>(args.size()), argv.data(), error);
    REQUIRE(launch.has_value());
    CHECK(error.empty());
    CHECK(launch->board == board);
    CHECK(launch->metrics);
    CHECK(launch->cli_args.at(1) == "--set");
  }
}

TEST_CASE("--worker-upgrade says the worker takes over on fd 6, after the boards or alone") {
  Config config;
  config.workers = 2;
  for (bool boards : {true, false}) {
    std::vector<std::string> args =
        worker_arguments("switchboard", config, 0, boards, boards, true);
    std::vector<char*> argv = argv_of(args);
    std::string error;
    auto launch = worker_launch_from(static_cast<int>(args.size()), argv.data(), error);
    REQUIRE(launch.has_value());
    CHECK(error.empty());
    CHECK(launch->board == boards);
    CHECK(launch->metrics == boards);
    CHECK(launch->upgrade);
    CHECK(launch->cli_args.at(1) == "--set");
  }
  std::vector<std::string> args = worker_arguments("switchboard", config, 0, true, true);
  std::vector<char*> argv = argv_of(args);
  std::string error;
  auto launch = worker_launch_from(static_cast<int>(args.size()), argv.data(), error);
  REQUIRE(launch.has_value());
  CHECK_FALSE(launch->upgrade);
}
