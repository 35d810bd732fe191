// ProcWatch: one pass over /proc per sample. Every numeric entry's /proc/P/stat
// gives its parent, its CPU time and its resident set, so the whole table of
// processes costs one small read each; only the members of a watched tree have
// their /proc/P/fd looked at. See proc_watch.hpp.
//
// Why /proc/P/stat and not /proc/P/status: stat is one line of numbers read in a
// single read(2), where status is ~55 labelled lines; its `rss` field (pages) is
// the same mm counter sum (anon + file + shmem) that status prints as VmRSS.
#include "tools/soak/report/proc_watch.hpp"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <string_view>
#include <unordered_map>
#include <utility>

namespace sb::soak {
namespace {

// What one /proc/P/stat line tells us.
struct ProcStat {
  int pid = 0;
  int ppid = 0;
  bool live = false;  // not a zombie or dead task
  std::string comm;
  std::uint64_t cpu_ticks = 0;  // utime + stime + cutime + cstime
  std::uint64_t rss_pages = 0;
};

// Reads a small file in one go; /proc files have no useful st_size.
bool read_small_file(const char* path, std::string& out) {
  const int fd = ::open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) return false;
  char buffer[1024];
  out.clear();
  for (;;) {
    const ssize_t n = ::read(fd, buffer, sizeof buffer);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    out.append(buffer, static_cast<std::size_t>(n));
    if (out.size() > 16 * 1024) break;  // a stat line is ~300 bytes
  }
  ::close(fd);
  return !out.empty();
}

std::uint64_t to_u64(std::string_view field) {
  std::uint64_t value = 0;
  for (const char c : field) {
    if (c < '0' || c > '9') break;
    value = value * 10 + static_cast<std::uint64_t>(c - '0');
  }
  return value;
}

// Parses "pid (comm) state ppid ... utime stime cutime cstime ... rss ...".
// comm may hold spaces and parentheses, so the fields start after the LAST ')'.
// Field numbers are those of proc(5); field 3 (state) is fields[0] here.
bool parse_stat(std::string_view line, ProcStat& out) {
  const std::size_t open = line.find('(');
  const std::size_t close = line.rfind(')');
  if (open == std::string_view::npos || close == std::string_view::npos || close < open)
    return false;
  out.pid = static_cast<int>(to_u64(line.substr(0, open)));
  out.comm.assign(line.substr(open + 1, close - open - 1));

  std::string_view fields[22];
  std::size_t count = 0;
  std::size_t pos = close + 1;
  while (count < 22 && pos < line.size()) {
    while (pos < line.size() && line[pos] == ' ') ++pos;
    const std::size_t end = line.find(' ', pos);
    const std::size_t stop = end == std::string_view::npos ? line.size() : end;
    if (stop > pos) fields[count++] = line.substr(pos, stop - pos);
    pos = stop;
  }
  if (count < 22) return false;
  const char state = fields[0].empty() ? '?' : fields[0][0];
  out.live = state != 'Z' && state != 'X' && state != 'x';
  out.ppid = static_cast<int>(to_u64(fields[1]));
  // utime(14) stime(15) cutime(16) cstime(17). The reaped children's times
  // (cutime, cstime) are counted so that a worker which exits does not make the
  // tree's total fall: its time moves from its own entry into its parent's.
  out.cpu_ticks = to_u64(fields[11]) + to_u64(fields[12]) + to_u64(fields[13]) + to_u64(fields[14]);
  out.rss_pages = to_u64(fields[21]);  // rss(24)
  return true;
}

bool is_pid_name(const char* name) {
  if (*name == '\0') return false;
  for (const char* p = name; *p != '\0'; ++p) {
    if (*p < '0' || *p > '9') return false;
  }
  return true;
}

// Since Linux 6.2 stat() on /proc/P/fd reports the number of open descriptors
// as its size, which costs nothing however many there are; older kernels say 0
// and we count the entries instead.
std::uint64_t count_open_fds(int pid) {
  const std::string dir = "/proc/" + std::to_string(pid) + "/fd";
  struct stat st {};
  if (::stat(dir.c_str(), &st) == 0 && st.st_size > 0)
    return static_cast<std::uint64_t>(st.st_size);
  DIR* d = ::opendir(dir.c_str());
  if (d == nullptr) return 0;
  std::uint64_t n = 0;
  while (const dirent* e = ::readdir(d)) {
    if (e->d_name[0] != '.') ++n;
  }
  ::closedir(d);
  return n;
}

// Every process on the box, by pid; a process that vanishes mid-scan is skipped.
std::unordered_map<int, ProcStat> scan_proc() {
  std::unordered_map<int, ProcStat> table;
  DIR* proc = ::opendir("/proc");
  if (proc == nullptr) return table;
  std::string path;
  std::string line;
  while (const dirent* e = ::readdir(proc)) {
    if (!is_pid_name(e->d_name)) continue;
    path.assign("/proc/").append(e->d_name).append("/stat");
    ProcStat st;
    if (read_small_file(path.c_str(), line) && parse_stat(line, st))
      table.emplace(st.pid, std::move(st));
  }
  ::closedir(proc);
  return table;
}

}  // namespace

ProcWatch::ProcWatch(std::vector<int> pids) : pids_(std::move(pids)) {}

std::vector<ProcSample> ProcWatch::sample() const {
  std::vector<ProcSample> samples;
  samples.reserve(pids_.size());
  if (pids_.empty()) return samples;

  const auto table = scan_proc();
  std::unordered_multimap<int, int> children;  // ppid -> pid
  children.reserve(table.size());
  for (const auto& [pid, st] : table) children.emplace(st.ppid, pid);

  static const double ticks_per_second = static_cast<double>(::sysconf(_SC_CLK_TCK));
  static const std::uint64_t page_size = static_cast<std::uint64_t>(::sysconf(_SC_PAGESIZE));

  std::vector<int> stack;
  for (const int root : pids_) {
    ProcSample s;
    s.pid = root;
    const auto it = table.find(root);
    if (it != table.end()) {
      s.name = it->second.comm;
      s.alive = it->second.live;
    }
    if (s.alive) {
      std::uint64_t ticks = 0;
      stack.assign(1, root);
      while (!stack.empty()) {
        const int pid = stack.back();
        stack.pop_back();
        const auto found = table.find(pid);
        if (found == table.end()) continue;
        const ProcStat& st = found->second;
        // A zombie's time reaches its parent's cutime only once it is reaped, so
        // until then it is counted here; it holds no memory or descriptors.
        ticks += st.cpu_ticks;
        if (st.live) {
          ++s.processes;
          s.rss_bytes += st.rss_pages * page_size;
          s.open_fds += count_open_fds(pid);
        }
        const auto [first, last] = children.equal_range(pid);
        for (auto c = first; c != last; ++c) stack.push_back(c->second);
      }
      s.cpu_seconds = ticks_per_second > 0 ? static_cast<double>(ticks) / ticks_per_second : 0.0;
    }
    samples.push_back(std::move(s));
  }
  return samples;
}

}  // namespace sb::soak
