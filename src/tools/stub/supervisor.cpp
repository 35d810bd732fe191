// The stub's parent process. See supervisor.hpp.
//
// The parent does no event-loop work, so it is plain POSIX: signals are blocked and
// read from a signalfd, next to the pipe on which the workers report that they are
// listening, with poll(2).
#include "tools/stub/supervisor.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

#include "tools/stub/log.hpp"
#include "tools/stub/worker.hpp"

namespace sb::stub {
namespace {

constexpr int kStopGraceMs = 5000;  // then SIGKILL

std::string errno_text() { return std::strerror(errno); }

// With port 0 every worker would bind a different free port, so the parent binds
// one first (SO_REUSEPORT, not listening: it receives no connection) and the
// workers join it. It is kept open until they all listen, so nobody takes the port.
int reserve_port(Options& options, int& reserved_fd) {
  reserved_fd = -1;
  if (options.listen_port != 0) return 0;
  const bool v6 = options.listen_host.find(':') != std::string::npos;
  sockaddr_storage storage{};
  socklen_t length = 0;
  if (v6) {
    auto* a = reinterpret_cast<sockaddr_in6*>(&storage);
    a->sin6_family = AF_INET6;
    if (::inet_pton(AF_INET6, options.listen_host.c_str(), &a->sin6_addr) != 1) return -1;
    length = sizeof *a;
  } else {
    auto* a = reinterpret_cast<sockaddr_in*>(&storage);
    a->sin_family = AF_INET;
    if (::inet_pton(AF_INET, options.listen_host.c_str(), &a->sin_addr) != 1) return -1;
    length = sizeof *a;
  }
  const int fd = ::socket(v6 ? AF_INET6 : AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return -1;
  const int on = 1;
  ::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof on);
  ::setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &on, sizeof on);
  if (::bind(fd, reinterpret_cast<sockaddr*>(&storage), length) != 0 ||
      ::getsockname(fd, reinterpret_cast<sockaddr*>(&storage), &length) != 0) {
    ::close(fd);
    return -1;
  }
  options.listen_port = ntohs(v6 ? reinterpret_cast<sockaddr_in6*>(&storage)->sin6_port
                                 : reinterpret_cast<sockaddr_in*>(&storage)->sin_port);
  reserved_fd = fd;
  return 0;
}

// pairs[i][j]: worker i's end of the link between i and j (-1 on the diagonal).
bool make_mesh(std::size_t n, std::vector<std::vector<int>>& pairs) {
  pairs.assign(n, std::vector<int>(n, -1));
  for (std::size_t i = 0; i < n; ++i) {
    for (std::size_t j = i + 1; j < n; ++j) {
      int fds[2];
      if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds) != 0) return false;
      pairs[i][j] = fds[0];
      pairs[j][i] = fds[1];
    }
  }
  return true;
}

void close_all(std::vector<std::vector<int>>& pairs, std::size_t keep_row) {
  for (std::size_t i = 0; i < pairs.size(); ++i) {
    if (i == keep_row) continue;
    for (int& fd : pairs[i]) {
      if (fd >= 0) ::close(fd);
      fd = -1;
    }
  }
}

// Sends SIGTERM to the live workers and waits for them, SIGKILL after the grace.
int stop_workers(std::vector<pid_t>& pids, int signal_fd) {
  for (pid_t pid : pids) {
    if (pid > 0) ::kill(pid, SIGTERM);
  }
  int status_all = 0;
  int waited_ms = 0;
  for (;;) {
    std::size_t alive = 0;
    for (pid_t& pid : pids) {
      if (pid <= 0) continue;
      int status = 0;
      const pid_t r = ::waitpid(pid, &status, WNOHANG);
      if (r == pid) {
        if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) status_all = 1;
        pid = 0;
      } else {
        ++alive;
      }
    }
    if (alive == 0) return status_all;
    if (waited_ms >= kStopGraceMs) {
      log(LogLevel::kWarn, std::to_string(alive) + " workers still running; killing them");
      for (pid_t pid : pids) {
        if (pid > 0) ::kill(pid, SIGKILL);
      }
      for (pid_t& pid : pids) {
        if (pid > 0) ::waitpid(pid, nullptr, 0);
        pid = 0;
      }
      return 1;
    }
    pollfd p{signal_fd, POLLIN, 0};
    if (::poll(&p, 1, 50) > 0) {
      signalfd_siginfo info{};
      [[maybe_unused]] const ssize_t n = ::read(signal_fd, &info, sizeof info);
    }
    waited_ms += 50;
  }
}

// What the parent holds from the fork to the end: the workers, their links, and
// what it watches for (the workers' "listening" byte and the signals).
struct Parent {
  Options options;
  int reserved_fd = -1;
  std::vector<std::vector<int>> pairs;
  int ready[2] = {-1, -1};
  sigset_t signals{};
  std::vector<pid_t> pids;
  int signal_fd = -1;
  std::size_t listening = 0;
  bool failed = false;
  bool stop = false;
};

// The port, the worker mesh and the ready pipe, each logged when it fails.
bool prepare_fork(Parent& p) {
  if (reserve_port(p.options, p.reserved_fd) != 0) {
    log(LogLevel::kError,
        "cannot bind " + listen_address(p.options.listen_host, 0) + ": " + errno_text());
    return false;
  }
  if (!make_mesh(p.options.procs, p.pairs)) {
    log(LogLevel::kError, "cannot create the worker mesh: " + errno_text());
    return false;
  }
  if (::pipe2(p.ready, O_CLOEXEC) != 0) {
    log(LogLevel::kError, "pipe: " + errno_text());
    return false;
  }
  // Signals are blocked before forking so none is lost in between; each worker
  // unblocks them for libuv's handlers, the parent reads them from a signalfd.
  sigemptyset(&p.signals);
  sigaddset(&p.signals, SIGTERM);
  sigaddset(&p.signals, SIGINT);
  sigaddset(&p.signals, SIGCHLD);
  sigprocmask(SIG_BLOCK, &p.signals, nullptr);
  return true;
}

// Worker i, in the forked child: keeps only its own ends and never returns.
[[noreturn]] void worker_main(Parent& p, std::size_t i, pid_t parent) {
  ::prctl(PR_SET_PDEATHSIG, SIGTERM);
  if (::getppid() != parent) ::_exit(1);  // the parent died before prctl
  close_all(p.pairs, i);
  ::close(p.ready[0]);
  if (p.reserved_fd >= 0) ::close(p.reserved_fd);
  sigprocmask(SIG_UNBLOCK, &p.signals, nullptr);
  int code = 1;
  {
    Worker worker(p.options, i, p.pairs[i], p.ready[1]);
    code = worker.run();
  }
  std::fflush(nullptr);
  ::_exit(code);  // never return into the parent's code
}

// Forks the workers; when a fork fails, stops those already started.
bool fork_workers(Parent& p) {
  const pid_t parent = ::getpid();
  p.pids.assign(p.options.procs, 0);
  for (std::size_t i = 0; i < p.options.procs; ++i) {
    const pid_t pid = ::fork();
    if (pid < 0) {
      log(LogLevel::kError, "fork: " + errno_text());
      close_all(p.pairs, p.options.procs);
      const int sfd = ::signalfd(-1, &p.signals, SFD_CLOEXEC);
      stop_workers(p.pids, sfd);
      return false;
    }
    if (pid == 0) worker_main(p, i, parent);
    p.pids[i] = pid;
  }
  close_all(p.pairs, p.options.procs);
  ::close(p.ready[1]);
  return true;
}

// A byte on the ready pipe: 'R' when a worker listens ("listening on" once all
// do), 'F' when one failed to start; end of file once no worker holds its end
// any more.
void read_ready(Parent& p) {
  char byte = 0;
  const ssize_t n = ::read(p.ready[0], &byte, 1);
  if (n == 1 && byte == 'R' && ++p.listening == p.options.procs) {
    if (p.reserved_fd >= 0) ::close(p.reserved_fd);
    p.reserved_fd = -1;
    std::printf("listening on %s\n",
                listen_address(p.options.listen_host, p.options.listen_port).c_str());
    std::fflush(stdout);
    log(LogLevel::kInfo, std::to_string(p.options.procs) + " worker process(es) ready");
  } else if (n == 1 && byte == 'F') {
    p.failed = true;
    p.stop = true;
  } else if (n <= 0) {
    ::close(p.ready[0]);
    p.ready[0] = -1;
  }
}

void read_signal(Parent& p) {
  signalfd_siginfo info{};
  if (::read(p.signal_fd, &info, sizeof info) != static_cast<ssize_t>(sizeof info)) return;
  if (info.ssi_signo == SIGCHLD) {
    // A worker exited while nobody asked it to: stop the rest and fail.
    for (pid_t& pid : p.pids) {
      int status = 0;
      if (pid > 0 && ::waitpid(pid, &status, WNOHANG) == pid) {
        log(LogLevel::kError, "worker (pid " + std::to_string(pid) + ") exited unexpectedly");
        pid = 0;
        p.failed = true;
        p.stop = true;
      }
    }
  } else {
    log(LogLevel::kInfo, std::string("signal ") + strsignal(static_cast<int>(info.ssi_signo)) +
                             ": stopping the workers");
    p.stop = true;
  }
}

// Waits until a signal, a worker's failure or death says stop.
void watch_workers(Parent& p) {
  while (!p.stop) {
    pollfd fds[2] = {{p.signal_fd, POLLIN, 0}, {p.ready[0], POLLIN, 0}};
    const nfds_t count = p.ready[0] >= 0 ? 2 : 1;
    if (::poll(fds, count, -1) < 0) {
      if (errno == EINTR) continue;
      break;
    }
    if (count == 2 && (fds[1].revents & (POLLIN | POLLHUP)) != 0) read_ready(p);
    if ((fds[0].revents & POLLIN) != 0) read_signal(p);
  }
}

}  // namespace

int run_supervisor(const Options& given) {
  Parent p;
  p.options = given;
  set_log_level(p.options.log_level);
  if (!prepare_fork(p) || !fork_workers(p)) return 1;
  p.signal_fd = ::signalfd(-1, &p.signals, SFD_CLOEXEC);
  watch_workers(p);
  const int code = stop_workers(p.pids, p.signal_fd);
  if (p.ready[0] >= 0) ::close(p.ready[0]);
  if (p.reserved_fd >= 0) ::close(p.reserved_fd);
  ::close(p.signal_fd);
  return p.failed ? 1 : code;
}

}  // namespace sb::stub
