// The stub's log: one line per event on stderr, prefixed with the process that
// wrote it ("stub[p2]" for the third worker, "stub[main]" for the parent) so the
// lines of N processes sharing one terminal can be told apart. A test tool needs
// nothing more: no files, no rotation, no structured output.
#pragma once

#include <string_view>

namespace sb::stub {

enum class LogLevel { kError = 0, kWarn = 1, kInfo = 2, kDebug = 3 };

// Parses "error", "warn", "info" or "debug"; false for anything else.
bool parse_log_level(std::string_view text, LogLevel& out);

void set_log_level(LogLevel level);
// "main" in the parent, "p0".."pN-1" in the workers.
void set_log_name(std::string_view name);
bool log_enabled(LogLevel level);

// Writes one line (the level and the process name first). Cheap to skip: callers
// that build a message test log_enabled() first on hot paths.
void log(LogLevel level, std::string_view message);

}  // namespace sb::stub
