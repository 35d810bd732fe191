// switchboard upgrade; see upgrade_command.hpp.
#include "app/upgrade/upgrade_command.hpp"

#include <signal.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstring>
#include <string>
#include <thread>
#include <vector>

#include "app/config/cli.hpp"
#include "app/upgrade/pid_file.hpp"

namespace sb::app {
namespace {
constexpr auto kWait = std::chrono::seconds(150);  // the daemons' own limits, and some
}  // namespace

int run_upgrade_command(int argc, char** argv) {
  // argv[1] is "upgrade": the rest are the daemon's options.
  std::vector<char*> args{argv[0]};
  for (int i = 2; i < argc; ++i) args.push_back(argv[i]);
  const CliResult cli = parse_command_line(static_cast<int>(args.size()), args.data());
  if (cli.action == CliResult::kHelp || cli.action == CliResult::kVersion) {
    return report_cli_outcome(cli, "switchboard upgrade", stdout, stderr);
  }
  if (cli.action != CliResult::kRun) {
    for (const std::string& e : cli.errors)
      std::fprintf(stderr, "switchboard upgrade: %s\n", e.c_str());
    std::fprintf(
        stderr, "switchboard upgrade: not asked: the new daemon would refuse this configuration\n");
    return 1;
  }
  const std::string& pid_file = cli.config.pid_file;
  if (pid_file.empty()) {
    std::fprintf(stderr,
                 "switchboard upgrade: pid_file is not set, so the daemon cannot be found "
                 "(set it, or send SIGUSR2 to the daemon's main process)\n");
    return 1;
  }
  const int pid = read_pid_file(pid_file);
  if (pid == 0) {
    std::fprintf(stderr, "switchboard upgrade: no daemon pid in %s\n", pid_file.c_str());
    return 1;
  }
  if (::kill(pid, SIGUSR2) != 0) {
    std::fprintf(stderr, "switchboard upgrade: cannot signal pid %d: %s\n", pid,
                 std::strerror(errno));
    return 1;
  }
  std::printf("switchboard upgrade: asked pid %d (SIGUSR2); waiting for the outcome\n", pid);
  std::fflush(stdout);
  const auto deadline = std::chrono::steady_clock::now() + kWait;
  // An outcome already there is an earlier upgrade's: only a new line counts.
  const std::string earlier = read_upgrade_outcome(pid_file, pid).line;
  bool gone = false;
  auto grace = deadline;
  for (;;) {
    const UpgradeOutcomeLine outcome = read_upgrade_outcome(pid_file, pid);
    if (!outcome.line.empty() && outcome.line != earlier) {
      if (outcome.ok) {
        std::printf("switchboard upgrade: pid %d took over from pid %d; %s\n", outcome.new_pid, pid,
                    outcome.words.c_str());
        return 0;
      }
      std::printf("switchboard upgrade: failed, pid %d keeps every session: %s\n", pid,
                  outcome.words.c_str());
      return 1;
    }
    // The old daemon exits once it has handed over; the line may come a moment
    // after. Gone for good with no word: it died.
    if (!gone && ::kill(pid, 0) != 0) {
      gone = true;
      grace = std::chrono::steady_clock::now() + std::chrono::seconds(3);
    }
    if (gone && std::chrono::steady_clock::now() > grace) {
      std::printf("switchboard upgrade: pid %d is gone and said nothing\n", pid);
      return 1;
    }
    if (std::chrono::steady_clock::now() > deadline) {
      std::printf("switchboard upgrade: no outcome from pid %d in %lld s\n", pid,
                  static_cast<long long>(kWait.count()));
      return 1;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
}

}  // namespace sb::app
