// Starting the daemon that takes this one's place in an upgrade in place
// (upgrade.hpp): the binary at the daemon's path, with the daemon's own command
// line, one end of an UpgradeChannel as its descriptor 3 and named in its
// environment (kUpgradeFdEnv). Both the lone worker (upgrade_giver.hpp) and the
// supervisor (supervisor_upgrade.hpp) start their successor this way.
#pragma once

#include <uv.h>

#include <cstdint>
#include <string>
#include <vector>

namespace sb::app {

inline constexpr int kSuccessorChannelFd = 3;

// uv_spawn()s `exe` with `args` (argv[0] first) and `channel_fd` as the child's
// kSuccessorChannelFd. The environment is this process's, with the channel named
// and WATCHDOG_PID dropped (it names this process; without it the successor
// feeds the watchdog once systemd knows it as the main process). Returns
// uv_spawn's result; on failure `process` must still be closed.
// Why the successor's process ended, as the upgrade's outcome says it.
std::string successor_exit_reason(std::int64_t status, int signal);

int spawn_successor(uv_loop_t* loop, uv_process_t* process, const std::string& exe,
                    const std::vector<std::string>& args, int channel_fd, uv_exit_cb on_exit);

}  // namespace sb::app
