// The pid file and the upgrade outcome file; see pid_file.hpp.
#include "app/upgrade/pid_file.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <sstream>

namespace sb::app {
namespace {
// Writes `text` to `path` whole: aside first, then renamed over it, so a reader
// never sees half of it.
std::string replace_file(const std::string& path, const std::string& text) {
  const std::string aside = path + ".tmp" + std::to_string(::getpid());
  const int fd = ::open(aside.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) return aside + ": " + std::strerror(errno);
  const bool written = ::write(fd, text.data(), text.size()) == static_cast<ssize_t>(text.size());
  ::close(fd);
  if (!written || ::rename(aside.c_str(), path.c_str()) != 0) {
    const std::string why = path + ": " + std::strerror(errno);
    ::unlink(aside.c_str());
    return why;
  }
  return {};
}
}  // namespace

std::string write_pid_file(const std::string& path, int pid) {
  if (path.empty()) return {};
  return replace_file(path, std::to_string(pid) + "\n");
}

int read_pid_file(const std::string& path) {
  std::ifstream in(path);
  long pid = 0;
  if (!(in >> pid) || pid <= 0 || pid > 1 << 30) return 0;
  return static_cast<int>(pid);
}

void remove_pid_file(const std::string& path, int pid) {
  if (!path.empty() && read_pid_file(path) == pid) ::unlink(path.c_str());
}

namespace {
std::string outcome_path(const std::string& pid_file) { return pid_file + ".upgrade"; }

void write_outcome(const std::string& pid_file, const std::string& line) {
  if (pid_file.empty()) return;
  replace_file(outcome_path(pid_file), line + "\n");
}
}  // namespace

void write_upgrade_failed(const std::string& pid_file, const std::string& why) {
  write_outcome(pid_file, std::to_string(::getpid()) + " 0 failed " + why);
}

UpgradeOutcomeLine read_upgrade_outcome(const std::string& pid_file, int old_pid) {
  UpgradeOutcomeLine out;
  std::ifstream in(outcome_path(pid_file));
  const std::string prefix = std::to_string(old_pid) + " ";
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind(prefix, 0) != 0) continue;
    // "<old> <new> ok|failed <words>"
    std::istringstream fields(line.substr(prefix.size()));
    std::string status;
    fields >> out.new_pid >> status;
    fields.get();  // the space before the words
    std::getline(fields, out.words);
    out.ok = status == "ok";
    out.line = line;
    return out;
  }
  return out;
}

void write_upgrade_ok(const std::string& pid_file, int old_pid, const std::string& summary) {
  write_outcome(pid_file,
                std::to_string(old_pid) + " " + std::to_string(::getpid()) + " ok " + summary);
}

}  // namespace sb::app
