// Logging: one line per event on stderr (or the log_file), shaped
//
//   2026-11-22T21:41:00.123Z INFO [worker 3] session abc created
//
// Several worker processes share one stderr, so each line is written with a
// single write(2): lines never interleave mid-way (a pipe guarantees this up to
// PIPE_BUF = 4096 bytes, a regular file or terminal in practice too).
//
// Call sites use the SB_LOG_* macros with printf-style arguments. The macro tests
// the level before evaluating any argument, so a debug line in a hot path costs
// one comparison when debug logging is off, and the format attribute lets the
// compiler check every format string. (g++ 12 has no usable std::format.)
//
// Control characters in the message (a newline inside a client's stanza, say) are
// escaped, so nothing a client sends can forge a log line.
//
// Each worker is a single-threaded process; this state is per process and is not
// meant to be changed from several threads at once.
#pragma once

#include <optional>
#include <string_view>

namespace sb::app {

enum class LogLevel : int { kError = 0, kWarn = 1, kInfo = 2, kDebug = 3 };

// "error", "warn", "info", "debug" (the config file's spelling).
std::string_view log_level_name(LogLevel level);
std::optional<LogLevel> log_level_from_name(std::string_view name);

namespace detail {
// Read by the macros; written only through set_log_level.
inline LogLevel g_log_level = LogLevel::kInfo;
}  // namespace detail

inline bool log_enabled(LogLevel level) { return level <= detail::g_log_level; }
void set_log_level(LogLevel level);
LogLevel log_level();

// The "[worker N]" tag; a negative index (the default) prints "[supervisor]".
void set_worker_index(int index);
// The "[keeper N]" tag of a worker slot's keeper process (app/keeper/keeper.hpp).
void set_keeper_index(int index);
// Where lines go; stderr (2) by default. Tests point it at a pipe.
void set_log_fd(int fd);

// log_file: lines are appended to `path` (opened O_APPEND, created with mode
// 0640), by every process on its own descriptor: each line is one write(2) at the
// end of the file, so processes never overwrite or split each other's lines. An
// empty path sends lines back to stderr. Returns "" or why the file cannot be
// opened; the destination is unchanged then.
std::string set_log_file(const std::string& path);
// SIGUSR1 (logrotate): opens the log file again by its name, so that lines go to
// a new file once the old one was renamed. Nothing to do without a log file.
// Returns "" or why the file cannot be opened (lines keep going to the old one).
std::string reopen_log_file();
const std::string& log_file_path();

// Formats and writes one line unconditionally; prefer the macros. errno is
// preserved, so a call site may log and then still inspect errno.
void log_write(LogLevel level, const char* format, ...) __attribute__((format(printf, 2, 3)));

}  // namespace sb::app

#define SB_LOG(level, ...)                                                       \
  do {                                                                           \
    if (::sb::app::log_enabled(level)) ::sb::app::log_write(level, __VA_ARGS__); \
  } while (0)
#define SB_LOG_ERROR(...) SB_LOG(::sb::app::LogLevel::kError, __VA_ARGS__)
#define SB_LOG_WARN(...) SB_LOG(::sb::app::LogLevel::kWarn, __VA_ARGS__)
#define SB_LOG_INFO(...) SB_LOG(::sb::app::LogLevel::kInfo, __VA_ARGS__)
#define SB_LOG_DEBUG(...) SB_LOG(::sb::app::LogLevel::kDebug, __VA_ARGS__)
