// `switchboard upgrade [options]`: asks the running daemon for an upgrade in
// place and says how it ended (docs/upgrade.md).
//
// The options are the daemon's own (--config FILE, --set KEY=VALUE...): the
// configuration they make is checked first, since it is what the new daemon will
// read, and its `pid_file` names the daemon to signal. Then SIGUSR2, and a wait
// for the outcome line (pid_file.hpp) naming that pid. Prints that line last.
// Exit status 0 when the upgrade went through (every session moved or was
// accounted for), 1 when it failed or could not be asked for.
#pragma once

namespace sb::app {

int run_upgrade_command(int argc, char** argv);

}  // namespace sb::app
