// ProcWatch against a real process tree: a forked child that forks a grandchild,
// which touches 50 MB and burns CPU on command. The tree's summed RSS and CPU
// must rise by about that much, both processes must be counted, and once the
// tree is gone its pid must read as not alive.
#include <doctest/doctest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <cstring>
#include <ctime>
#include <vector>

#include "tools/soak/report/proc_watch.hpp"

using sb::soak::ProcSample;
using sb::soak::ProcWatch;

namespace {

constexpr std::size_t kTouchBytes = 50u * 1024 * 1024;

// Reads exactly one byte; false on EOF or error.
bool read_byte(int fd) {
  char c = 0;
  for (;;) {
    const ssize_t n = read(fd, &c, 1);
    if (n == 1) return true;
    if (n < 0 && errno == EINTR) continue;
    return false;
  }
}

void write_byte(int fd) {
  const char c = 'x';
  while (write(fd, &c, 1) < 0 && errno == EINTR) {
  }
}

long cpu_ms() {
  timespec ts{};
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
  return ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

// The grandchild: says it is up, waits for "go", touches the memory and spins
// for 300 ms of CPU, says done, then waits to be killed.
[[noreturn]] void grandchild(int go_fd, int ready_fd) {
  write_byte(ready_fd);
  if (!read_byte(go_fd)) _exit(1);
  auto* memory = static_cast<volatile char*>(std::malloc(kTouchBytes));
  if (memory == nullptr) _exit(1);
  for (std::size_t i = 0; i < kTouchBytes; i += 4096) memory[i] = static_cast<char>(i);
  // 300 ms of this process's own CPU time, however busy the machine is.
  volatile unsigned long spin = 0;
  while (cpu_ms() < 300) {
    for (int i = 0; i < 10000; ++i) spin = spin + static_cast<unsigned long>(i);
  }
  write_byte(ready_fd);
  for (;;) pause();
}

struct Tree {
  pid_t child = -1;
  int go_write = -1;
  int ready_read = -1;

  Tree() {
    int go[2];
    int ready[2];
    REQUIRE(pipe(go) == 0);
    REQUIRE(pipe(ready) == 0);
    child = fork();
    REQUIRE(child >= 0);
    if (child == 0) {
      // The child: forks the grandchild, then just waits; killing the child's
      // process group ends both.
      setpgid(0, 0);
      const pid_t g = fork();
      if (g < 0) _exit(1);
      if (g == 0) grandchild(go[0], ready[1]);
      for (;;) pause();
    }
    setpgid(child, child);  // also done by the child; whichever runs first
    close(go[0]);
    close(ready[1]);
    go_write = go[1];
    ready_read = ready[0];
  }
  ~Tree() { stop(); }
  Tree(const Tree&) = delete;
  Tree& operator=(const Tree&) = delete;

  void stop() {
    if (child > 0) {
      kill(-child, SIGKILL);
      kill(child, SIGKILL);
      int status = 0;
      waitpid(child, &status, 0);
      child = -1;
    }
    if (go_write >= 0) close(go_write);
    if (ready_read >= 0) close(ready_read);
    go_write = ready_read = -1;
  }
};

// The sample of a tree whose grandchild may not be visible in /proc at once.
ProcSample sample_until_processes(const ProcWatch& watch, int processes) {
  ProcSample s;
  for (int i = 0; i < 200; ++i) {
    s = watch.sample().at(0);
    if (s.processes >= processes) break;
    usleep(10 * 1000);
  }
  return s;
}

}  // namespace

TEST_CASE("ProcWatch sums RSS and CPU over a process and its descendants") {
  Tree tree;
  REQUIRE(read_byte(tree.ready_read));  // the grandchild is up, idle
  const ProcWatch watch({tree.child});
  const ProcSample before = sample_until_processes(watch, 2);
  CHECK(before.pid == tree.child);
  CHECK(before.alive);
  CHECK(before.processes == 2);
  CHECK(!before.name.empty());
  CHECK(before.open_fds >= 2);  // the pipe ends each process still holds

  write_byte(tree.go_write);
  REQUIRE(read_byte(tree.ready_read));  // touched and spun
  const ProcSample after = watch.sample().at(0);
  CHECK(after.alive);
  CHECK(after.processes == 2);
  // The 50 MB the grandchild touched, give or take what else moved.
  CHECK(after.rss_bytes >= before.rss_bytes + 45u * 1024 * 1024);
  CHECK(after.rss_bytes <= before.rss_bytes + 80u * 1024 * 1024);
  // 0.3 s of CPU, counted in clock ticks of 10 ms.
  CHECK(after.cpu_seconds - before.cpu_seconds >= 0.27);
  CHECK(after.cpu_seconds - before.cpu_seconds < 2.0);

  tree.stop();
  const ProcSample gone = ProcWatch({static_cast<int>(before.pid)}).sample().at(0);
  CHECK_FALSE(gone.alive);
  CHECK(gone.processes == 0);
  CHECK(gone.rss_bytes == 0);
}

TEST_CASE("ProcWatch keeps the order of its pids and marks dead ones") {
  // A pid that surely does not exist: above the kernel's pid_max limit (4M).
  const int dead = 4194304 + 1;
  const ProcWatch watch({dead, static_cast<int>(getpid())});
  const std::vector<ProcSample> samples = watch.sample();
  REQUIRE(samples.size() == 2);
  CHECK(samples[0].pid == dead);
  CHECK_FALSE(samples[0].alive);
  CHECK(samples[1].pid == getpid());
  CHECK(samples[1].alive);
  CHECK(samples[1].processes >= 1);
  CHECK(samples[1].rss_bytes > 0);
  CHECK(samples[1].open_fds >= 3);              // stdin, stdout, stderr
  CHECK(samples[1].name == "unit_soak_repor");  // comm is cut to 15 characters
}

TEST_CASE("ProcWatch with no pids samples nothing") { CHECK(ProcWatch({}).sample().empty()); }
