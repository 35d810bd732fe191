// The command line of the `switchboard` daemon.
//
// parse_command_line() turns argv into a ready Config, or into the reason not to
// run (help, version, errors). It never prints and never exits: main() decides,
// usually by handing anything but kRun to report_cli_outcome().
//
// Precedence is fixed, whatever the order on the command line: built-in defaults,
// then the config file (--config), then command-line values (--listen, --upstream,
// --workers, --log-level, --set key=value), the later of two command-line values
// for one key winning. That is why the file is read only after all of argv has
// been seen, and why the command-line values are kept (CliResult::overrides):
// the supervisor hands each worker its checked configuration, and a reload
// (SIGHUP, config_reload.hpp) re-reads the file with load_config() and lays the
// same command-line values over it again.
#pragma once

#include <cstdio>
#include <string>
#include <string_view>
#include <vector>

#include "app/config/config.hpp"
#include "switchboard_version.hpp"

namespace sb::app {

inline constexpr std::string_view kSwitchboardVersion = kProjectVersion;

// One command-line value for a config key. `origin` names the option it came
// from ("--set", "--listen", ...) and prefixes its error messages.
struct Override {
  std::string key;
  std::string value;
  std::string origin;
};

struct CliResult {
  enum Action { kRun, kCheckOnly, kHelp, kVersion, kError };

  Config config;  // complete and validated when action == kRun
  Action action = kRun;
  std::vector<std::string> errors;  // every problem found, one message each
  std::string config_path;          // the --config file, empty if none
  std::vector<Override> overrides;  // command-line values, in argv order
};

// Parses argv. With --check-config the action is kCheckOnly whether or not there
// are errors; otherwise any error makes it kError. --help and --version win over
// everything else and skip loading the configuration.
CliResult parse_command_line(int argc, char** argv);

// Defaults, then `config_path` (if not empty), then `overrides`, then
// validate_config(). Appends every problem to `errors`.
Config load_config(const std::string& config_path, const std::vector<Override>& overrides,
                   std::vector<std::string>& errors);

std::string help_text(std::string_view program_name);
std::string version_text();

// Does what a non-running action asks: prints help or version to `out`, the
// errors to `err` one per line, or "configuration ok" for a clean
// --check-config. Returns the process exit code (0 or 1). Not for kRun.
int report_cli_outcome(const CliResult& result, std::string_view program_name, std::FILE* out,
                       std::FILE* err);

}  // namespace sb::app
