// The stub's log: stderr lines "stub[p1] warn: ...". One write(2) per line so the
// lines of several processes never interleave mid-line.
#include "tools/stub/log.hpp"

#include <unistd.h>

#include <string>

namespace sb::stub {
namespace {

LogLevel g_level = LogLevel::kInfo;
std::string g_name = "main";

std::string_view level_name(LogLevel level) {
  switch (level) {
    case LogLevel::kError: return "error";
    case LogLevel::kWarn: return "warn";
    case LogLevel::kInfo: return "info";
    case LogLevel::kDebug: return "debug";
  }
  return "?";
}

}  // namespace

bool parse_log_level(std::string_view text, LogLevel& out) {
  for (LogLevel level : {LogLevel::kError, LogLevel::kWarn, LogLevel::kInfo, LogLevel::kDebug}) {
    if (text == level_name(level)) {
      out = level;
      return true;
    }
  }
  return false;
}

void set_log_level(LogLevel level) { g_level = level; }
void set_log_name(std::string_view name) { g_name = name; }
bool log_enabled(LogLevel level) { return level <= g_level; }

void log(LogLevel level, std::string_view message) {
  if (!log_enabled(level)) return;
  std::string line = "stub[";
  line += g_name;
  line += "] ";
  line += level_name(level);
  line += ": ";
  line += message;
  line += '\n';
  // A failed log write has nowhere to be reported.
  [[maybe_unused]] const ssize_t written = ::write(STDERR_FILENO, line.data(), line.size());
}

}  // namespace sb::stub
