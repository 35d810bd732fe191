// switchboard: the daemon's entry point. It reads the command line and the
// configuration, then becomes one of three things:
//
// - with workers = 1 (the default), the one worker, in this process
//   (app/worker.hpp): no supervisor, no IPC;
// - with more workers (auto = one per core, or more for max_sessions), the supervisor (app/supervisor.hpp),
//   which starts the worker processes and relays hand-overs between them;
// - started by a supervisor (hidden first argument --worker-index I, see
//   app/worker_launch.hpp), one of those workers.
#include <unistd.h>

#include <algorithm>
#include <climits>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "app/config/cli.hpp"
#include "app/keeper/keeper.hpp"
#include "app/log/log.hpp"
#include "app/process/fd_budget.hpp"
#include "app/process/notify.hpp"
#include "app/process/supervisor.hpp"
#include "app/process/worker.hpp"
#include "app/process/worker_launch.hpp"
#include "app/upgrade/pid_file.hpp"
#include "app/upgrade/upgrade_command.hpp"
#include "app/upgrade/upgrade_taker.hpp"

namespace {

using namespace sb::app;

// A worker slot's keeper (app/keeper/keeper.hpp):
// `--keeper I LEVEL LOG_FILE STATE_DIR WORKERS`.
int run_keeper_process(int argc, char** argv) {
  const int index = argc > 2 ? std::atoi(argv[2]) : 0;
  set_keeper_index(index);
  if (argc > 3) {
    if (const auto level = log_level_from_name(argv[3])) set_log_level(*level);
  }
  if (argc > 4 && argv[4][0] != '\0') set_log_file(argv[4]);
  // Without the count (0) a keeper reads only its own index's journals.
  const int workers = argc > 6 ? std::max(std::atoi(argv[6]), 0) : 0;
  return run_keeper(static_cast<std::uint32_t>(index), static_cast<std::uint32_t>(workers),
                    argc > 5 ? argv[5] : "");
}

int run_supervised_worker(const WorkerLaunch& launch) {
  std::vector<char*> argv;
  for (const std::string& arg : launch.cli_args) argv.push_back(const_cast<char*>(arg.c_str()));
  argv.push_back(nullptr);
  set_worker_index(static_cast<int>(launch.index));
  CliResult cli = parse_command_line(static_cast<int>(argv.size() - 1), argv.data());
  if (cli.action != CliResult::kRun) {
    // The supervisor validated this very configuration; only a mismatched binary
    // gets here.
    report_cli_outcome(cli, "switchboard worker", stderr, stderr);
    return 1;
  }
  set_log_level(cli.config.log_level);
  if (const std::string error = set_log_file(cli.config.log_file); !error.empty()) {
    SB_LOG_ERROR("log_file %s", error.c_str());
    return 1;
  }
  // Taking over from this index's worker of the daemon being replaced: its
  // listeners come first, before the worker opens its own.
  std::unique_ptr<UpgradeTaker> taker;
  if (launch.upgrade) {
    taker = std::make_unique<UpgradeTaker>(kWorkerUpgradeFd);
    std::string error;
    if (!taker->receive_start(error)) {
      SB_LOG_ERROR("upgrade: %s", error.c_str());
      taker->refuse(error);
      return 1;
    }
  }
  Worker worker(cli.config, static_cast<int>(launch.index), kWorkerIpcFd,
                launch.board ? kWorkerBoardFd : -1, launch.metrics ? kWorkerMetricsFd : -1);
  worker.set_upgrade_taker(taker.get());
  if (launch.keeper) worker.set_keeper_fd(kWorkerKeeperFd);
  return worker.run();
}

// The path of this binary, read now: a package upgrade replaces the file, and
// SIGUSR2 must run what is at the path then, not what this process runs.
std::string own_path(const char* argv0) {
  char buffer[PATH_MAX];
  const ssize_t n = ::readlink("/proc/self/exe", buffer, sizeof buffer - 1);
  if (n > 0) return std::string(buffer, static_cast<std::size_t>(n));
  return argv0 != nullptr ? argv0 : "";
}

}  // namespace

int main(int argc, char** argv) {
  // A peer that vanishes must cost an EPIPE on write, not the process.
  std::signal(SIGPIPE, SIG_IGN);
  // SIGHUP (reload) and SIGUSR1 (reopen the log) get their handlers once the loop
  // runs; until then their default action, ending the process, must not apply.
  std::signal(SIGHUP, SIG_IGN);
  std::signal(SIGUSR1, SIG_IGN);
  std::signal(SIGUSR2, SIG_IGN);

  if (argc > 1 && std::string_view(argv[1]) == kKeeperOption) return run_keeper_process(argc, argv);
  std::string launch_error;
  if (const auto launch = worker_launch_from(argc, argv, launch_error)) {
    if (!launch_error.empty()) {
      std::fprintf(stderr, "switchboard: %s\n", launch_error.c_str());
      return 1;
    }
    forget_service_manager();  // the supervisor speaks to systemd, not its workers
    return run_supervised_worker(*launch);
  }

  if (argc > 1 && std::string_view(argv[1]) == "upgrade") return run_upgrade_command(argc, argv);
  // Started by a running daemon to take its place (an upgrade in place)?
  std::unique_ptr<UpgradeTaker> taker = UpgradeTaker::from_environment(launch_error);
  if (!launch_error.empty()) {
    std::fprintf(stderr, "switchboard: %s\n", launch_error.c_str());
    return 1;
  }
  CliResult cli = parse_command_line(argc, argv);
  if (cli.action != CliResult::kRun) {
    if (taker) taker->refuse("the new binary refused the command line or configuration");
    return report_cli_outcome(cli, "switchboard", stdout, stderr);
  }
  set_log_level(cli.config.log_level);
  if (const std::string error = set_log_file(cli.config.log_file); !error.empty()) {
    std::fprintf(stderr, "switchboard: log_file %s\n", error.c_str());
    return 1;
  }
  // Workers inherit the raised limit; `workers = auto` sizes itself by it.
  const std::uint64_t fd_limit = raise_fd_limit();
  std::string why;
  const bool automatic = cli.config.workers == 0;
  cli.config.workers =
      resolve_worker_count(cli.config.workers, cli.config.max_sessions, fd_limit, &why);
  set_worker_index(cli.config.workers == 1 ? 0 : -1);
  if (automatic || cli.config.workers > 1) {
    SB_LOG_INFO("%u worker%s: %s", cli.config.workers, cli.config.workers == 1 ? "" : "s",
                why.c_str());
  }

  int metrics_fd = -1;
  if (taker) {
    // The old daemon's listeners (alone) or its workers' channels (supervised),
    // and its metrics board. Sessions move index by index: the shape must stay.
    if (!taker->receive_start(why)) {
      SB_LOG_ERROR("upgrade: %s", why.c_str());
      taker->refuse(why);
      return 1;
    }
    const std::size_t old_workers = std::max<std::size_t>(1, taker->count("worker"));
    const bool old_alone = taker->count("worker") == 0;
    if (old_workers != cli.config.workers || old_alone != (cli.config.workers == 1)) {
      why = "the running daemon has " + std::to_string(old_workers) +
            " worker(s) and the new configuration " + std::to_string(cli.config.workers) +
            ": an upgrade in place keeps the count (changing it takes a restart)";
      SB_LOG_ERROR("upgrade: refused: %s", why.c_str());
      taker->refuse(why);
      return 1;
    }
    metrics_fd = taker->take_socket("board", "");
  }
  if (cli.config.workers == 1) {
    set_worker_index(0);
    Worker worker(cli.config, 0, -1, -1, metrics_fd);
    worker.set_reload_source(cli.config_path, cli.overrides);
    worker.set_upgrade_source(own_path(argv[0]), std::vector<std::string>(argv, argv + argc));
    worker.set_upgrade_taker(taker.get());
    return worker.run();
  }
  set_worker_index(-1);  // "[supervisor]"
  Supervisor supervisor(cli.config, argv[0], metrics_fd);
  supervisor.set_reload_source(cli.config_path, cli.overrides);
  supervisor.set_upgrade_source(own_path(argv[0]), std::vector<std::string>(argv, argv + argc));
  supervisor.set_upgrade_taker(taker.get());
  // Taking over, the pid file changes hands once the old daemon has let go.
  if (const std::string error =
          taker ? std::string() : write_pid_file(cli.config.pid_file, getpid());
      !error.empty()) {
    SB_LOG_ERROR("pid_file %s", error.c_str());
  }
  const int status = supervisor.run();
  remove_pid_file(cli.config.pid_file, getpid());
  return status;
}
