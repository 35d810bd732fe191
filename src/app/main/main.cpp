// switchboard: the daemon's entry point. It reads the command line and the
// configuration, then runs one worker (see app/worker.hpp) in this process.
#include <csignal>
#include <cstdio>

#include "app/cli.hpp"
#include "app/log.hpp"
#include "app/worker.hpp"

int main(int argc, char** argv) {
  using namespace sb::app;
  CliResult cli = parse_command_line(argc, argv);
  if (cli.action != CliResult::kRun) return report_cli_outcome(cli, "switchboard", stdout, stderr);

  set_log_level(cli.config.log_level);
  // A peer that vanishes must cost an EPIPE on write, not the process.
  std::signal(SIGPIPE, SIG_IGN);
  set_worker_index(0);
  Worker worker(cli.config, 0);
  return worker.run();
}
