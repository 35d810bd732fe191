// Log line formatting and the single write(2) per line; see log.hpp.
#include "app/log/log.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstdarg>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <string>

namespace sb::app {
namespace {

int g_worker_index = -1;
const char* g_role = "worker";  // what a process with an index is
int g_log_fd = STDERR_FILENO;
int g_file_fd = -1;  // the log file's descriptor, ours to close; -1 when none
std::string g_file_path;

// A message longer than this is cut and marked; a log line is not the place for a
// whole stanza, and an unbounded line could be a client-controlled allocation.
constexpr std::size_t kMaxMessageBytes = 16 * 1024;

std::string_view level_tag(LogLevel level) {
  switch (level) {
    case LogLevel::kError: return "ERROR";
    case LogLevel::kWarn: return "WARN";
    case LogLevel::kInfo: return "INFO";
    case LogLevel::kDebug: return "DEBUG";
  }
  return "?";
}

// "2026-11-22T21:41:00.123Z" in UTC.
void append_timestamp(std::string& out) {
  timespec now{};
  clock_gettime(CLOCK_REALTIME, &now);
  tm utc{};
  gmtime_r(&now.tv_sec, &utc);
  char text[40];
  const int n = std::snprintf(text, sizeof text, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ",
                              utc.tm_year + 1900, utc.tm_mon + 1, utc.tm_mday, utc.tm_hour,
                              utc.tm_min, utc.tm_sec, static_cast<int>(now.tv_nsec / 1000000));
  if (n > 0) out.append(text, static_cast<std::size_t>(n));
}

// Copies the message, replacing control characters by \n, \r, \t or \xNN.
void append_escaped(std::string& out, std::string_view message) {
  static constexpr char kHex[] = "0123456789abcdef";
  for (char c : message) {
    const auto byte = static_cast<unsigned char>(c);
    if (byte >= 0x20 && byte != 0x7f) {
      out.push_back(c);
    } else if (c == '\n') {
      out.append("\\n");
    } else if (c == '\r') {
      out.append("\\r");
    } else if (c == '\t') {
      out.append("\\t");
    } else {
      out.append("\\x");
      out.push_back(kHex[byte >> 4]);
      out.push_back(kHex[byte & 0xf]);
    }
  }
}

void write_all(int fd, const std::string& line) {
  std::size_t done = 0;
  while (done < line.size()) {
    const ssize_t n = ::write(fd, line.data() + done, line.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return;  // nowhere left to report a logging failure
    done += static_cast<std::size_t>(n);
  }
}

}  // namespace

std::string_view log_level_name(LogLevel level) {
  switch (level) {
    case LogLevel::kError: return "error";
    case LogLevel::kWarn: return "warn";
    case LogLevel::kInfo: return "info";
    case LogLevel::kDebug: return "debug";
  }
  return "?";
}

std::optional<LogLevel> log_level_from_name(std::string_view name) {
  for (LogLevel level : {LogLevel::kError, LogLevel::kWarn, LogLevel::kInfo, LogLevel::kDebug}) {
    if (log_level_name(level) == name) return level;
  }
  return std::nullopt;
}

void set_log_level(LogLevel level) { detail::g_log_level = level; }
LogLevel log_level() { return detail::g_log_level; }
void set_worker_index(int index) { g_worker_index = index; }
void set_keeper_index(int index) {
  g_worker_index = index;
  g_role = "keeper";
}
void set_log_fd(int fd) { g_log_fd = fd; }

std::string set_log_file(const std::string& path) {
  int fd = STDERR_FILENO;
  if (!path.empty()) {
    fd = ::open(path.c_str(), O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0640);
    if (fd < 0) return path + ": " + std::strerror(errno);
  }
  const int old = g_file_fd;
  g_log_fd = fd;
  g_file_fd = path.empty() ? -1 : fd;
  g_file_path = path;
  if (old >= 0) ::close(old);
  return {};
}

std::string reopen_log_file() {
  if (g_file_path.empty()) return {};
  const std::string path = g_file_path;  // set_log_file assigns it
  return set_log_file(path);
}

const std::string& log_file_path() { return g_file_path; }

void log_write(LogLevel level, const char* format, ...) {
  const int saved_errno = errno;

  // Format into a stack buffer first; only an unusually long message pays for a
  // second pass into a heap buffer.
  char small[1024];
  std::string large;
  std::string_view message;
  va_list args;
  va_start(args, format);
  va_list again;
  va_copy(again, args);
  const int needed = std::vsnprintf(small, sizeof small, format, args);
  va_end(args);
  bool truncated = false;
  if (needed < 0) {
    message = "(log format error)";
  } else if (static_cast<std::size_t>(needed) < sizeof small) {
    message = std::string_view(small, static_cast<std::size_t>(needed));
  } else {
    std::size_t size = static_cast<std::size_t>(needed);
    if (size > kMaxMessageBytes) {
      size = kMaxMessageBytes;
      truncated = true;
    }
    large.resize(size + 1);
    std::vsnprintf(large.data(), large.size(), format, again);
    large.resize(size);
    message = large;
  }
  va_end(again);

  std::string line;
  line.reserve(message.size() + 64);
  append_timestamp(line);
  line.push_back(' ');
  line.append(level_tag(level));
  if (g_worker_index < 0) {
    line.append(" [supervisor] ");
  } else {
    line.append(" [")
        .append(g_role)
        .append(" ")
        .append(std::to_string(g_worker_index))
        .append("] ");
  }
  append_escaped(line, message);
  if (truncated) line.append("... (truncated)");
  line.push_back('\n');
  write_all(g_log_fd, line);

  errno = saved_errno;
}

}  // namespace sb::app
