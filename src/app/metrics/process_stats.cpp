// /proc readings for process_* metrics; see process_stats.hpp.
#include "app/metrics/process_stats.hpp"

#include <dirent.h>
#include <sys/resource.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <string>

namespace sb::app {
namespace {

std::string read_small_file(const std::string& path) {
  std::FILE* file = std::fopen(path.c_str(), "re");
  if (file == nullptr) return {};
  char buffer[4096];
  const std::size_t n = std::fread(buffer, 1, sizeof buffer - 1, file);
  std::fclose(file);
  return std::string(buffer, n);
}

// The boot time, seconds since the epoch ("btime" in /proc/stat); read once.
double boot_time() {
  static const double value = [] {
    const std::string stat = read_small_file("/proc/stat");
    const std::size_t at = stat.find("\nbtime ");
    return at == std::string::npos ? 0.0 : std::strtod(stat.c_str() + at + 7, nullptr);
  }();
  return value;
}

}  // namespace

std::optional<ProcessSample> sample_process(int pid) {
  const std::string stat = read_small_file("/proc/" + std::to_string(pid) + "/stat");
  // The command name is in parentheses and may hold spaces: fields count from the
  // last ')'. After it: state (3), ppid (4), ... utime (14), stime (15), ...
  // starttime (22), vsize (23), rss (24), all 1-based as in proc(5).
  const std::size_t close = stat.rfind(')');
  if (close == std::string::npos) return std::nullopt;
  const char* p = stat.c_str() + close + 2;
  unsigned long long fields[25] = {};
  int field = 3;
  while (*p != '\0' && field <= 24) {
    if (field == 3) {  // the state is a letter
      while (*p != '\0' && *p != ' ') ++p;
    } else {
      char* end = nullptr;
      fields[field] = std::strtoull(p, &end, 10);
      if (end == p) {  // a negative number (priority, nice): skip it
        while (*p != '\0' && *p != ' ') ++p;
      } else {
        p = end;
      }
    }
    while (*p == ' ') ++p;
    ++field;
  }
  if (field <= 24) return std::nullopt;
  const double ticks = static_cast<double>(sysconf(_SC_CLK_TCK));
  ProcessSample sample;
  sample.cpu_seconds = static_cast<double>(fields[14] + fields[15]) / ticks;
  sample.resident_bytes = fields[24] * static_cast<unsigned long long>(sysconf(_SC_PAGESIZE));
  sample.start_time_seconds = boot_time() + static_cast<double>(fields[22]) / ticks;
  return sample;
}

std::uint64_t max_fds() {
  rlimit limit{};
  if (getrlimit(RLIMIT_NOFILE, &limit) != 0) return 0;
  return limit.rlim_cur;
}

std::uint64_t count_open_fds() {
  DIR* dir = opendir("/proc/self/fd");
  if (dir == nullptr) return 0;
  std::uint64_t count = 0;
  while (const dirent* entry = readdir(dir)) {
    if (entry->d_name[0] != '.') ++count;
  }
  closedir(dir);
  return count > 0 ? count - 1 : 0;  // not the directory's own descriptor
}

}  // namespace sb::app
