// The pid file (`pid_file`) and the upgrade outcome file beside it: how
// `switchboard upgrade` finds the running daemon and learns how its upgrade in
// place ended (upgrade_command.hpp).
//
// The main process writes its pid at start and removes the file at exit, but
// only while it still names this process: after an upgrade it names the new
// daemon, which wrote it. The outcome of an upgrade is one line in
// `<pid_file>.upgrade`, replaced whole (written aside, then renamed):
//
//   <old pid> <new pid> ok upgrade: N sessions moved, M ended (reasons), T s
//   <old pid> 0 failed <why>
#pragma once

#include <string>

namespace sb::app {

// Writes `pid` to `path` (no-op for an empty path). Empty, or why it failed.
std::string write_pid_file(const std::string& path, int pid);
// Removes `path` if it names `pid`.
void remove_pid_file(const std::string& path, int pid);
// The pid in `path`, or 0 (missing, unreadable, not a pid).
int read_pid_file(const std::string& path);

// The outcome line of an upgrade asked of this process that failed (`why`), or
// of one this process took over from `old_pid` (`summary`: the log's line).
// Each replaces the outcome file; no-op for an empty pid file path.
void write_upgrade_failed(const std::string& pid_file, const std::string& why);
void write_upgrade_ok(const std::string& pid_file, int old_pid, const std::string& summary);

// The outcome line of an upgrade asked of `old_pid`, read back ("" in `line`
// while there is none): whether it went through, the new daemon's pid (0 when
// not), and its words (the summary, or why it failed).
struct UpgradeOutcomeLine {
  std::string line;
  bool ok = false;
  int new_pid = 0;
  std::string words;
};
UpgradeOutcomeLine read_upgrade_outcome(const std::string& pid_file, int old_pid);

}  // namespace sb::app
