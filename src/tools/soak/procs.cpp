// Fork, pipes and the parent's collecting loop for --procs.
#include "tools/soak/procs.hpp"

#include <poll.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <string>

#include "tools/soak/stop_request.hpp"

namespace sb::soak {

std::vector<Share> make_shares(const Options& o) {
  std::vector<Share> shares;
  const std::uint64_t procs = o.procs;
  std::uint64_t base = o.sessions / procs;
  if (base % 2 == 1 && procs > 1) ++base;
  std::uint64_t next = o.first_user;
  std::uint64_t left = o.sessions;
  for (unsigned p = 0; p < procs && left > 0; ++p) {
    Share s;
    s.proc = p;
    s.first_number = next;
    s.count = p + 1 == procs ? left : std::min(base, left);
    const double part = static_cast<double>(s.count) / static_cast<double>(o.sessions);
    s.rate = o.rate * part;
    s.msg_rate = o.msg_rate * part;
    next += s.count;
    left -= s.count;
    shares.push_back(s);
  }
  return shares;
}

namespace {

void write_all(int fd, const std::string& line) {
  std::size_t off = 0;
  while (off < line.size()) {
    const ssize_t n = ::write(fd, line.data() + off, line.size() - off);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return;  // the parent is gone; nothing to report to
    off += static_cast<std::size_t>(n);
  }
}

[[noreturn]] void child_main(const Options& o, const Env& prototype, const Share& share, int fd) {
  int status = 0;
  {
    Runner runner(
        o, prototype, share, [fd](const Interval& iv) { write_all(fd, iv.serialize() + "\n"); },
        [fd](const Final& f) { write_all(fd, f.serialize() + "\n"); });
    status = runner.run();
  }
  ::close(fd);
  std::fflush(stdout);
  ::_exit(status);
}

struct Child {
  pid_t pid = -1;
  int fd = -1;
  std::string buffer;
  bool final_seen = false;
  std::uint64_t last_index = 0;
};

// Handles the complete lines in a child's buffer.
bool consume_lines(Child& child, Collector& collector) {
  bool ok = true;
  std::size_t start = 0;
  for (;;) {
    const std::size_t nl = child.buffer.find('\n', start);
    if (nl == std::string::npos) break;
    const std::string_view line(child.buffer.data() + start, nl - start);
    if (!line.empty() && line.front() == 'I') {
      Interval iv;
      if (iv.deserialize(line)) {
        child.last_index = iv.index;
        collector.add_interval(iv);
      } else {
        ok = false;
      }
    } else if (!line.empty() && line.front() == 'F') {
      Final f;
      if (f.deserialize(line)) {
        collector.add_final(f);
        child.final_seen = true;
        collector.process_done(child.last_index);
      } else {
        ok = false;
      }
    }
    start = nl + 1;
  }
  child.buffer.erase(0, start);
  return ok;
}

// Forks a child per share; the parent keeps the read end of each child's pipe.
bool fork_children(const Options& o, const Env& prototype, const std::vector<Share>& shares,
                   std::vector<Child>& children) {
  for (std::size_t i = 0; i < shares.size(); ++i) {
    int fds[2];
    if (::pipe(fds) != 0) {
      std::perror("switchboard-soak: pipe");
      return false;
    }
    const pid_t pid = ::fork();
    if (pid == 0) {
      ::close(fds[0]);
      for (std::size_t k = 0; k < i; ++k) ::close(children[k].fd);
      child_main(o, prototype, shares[i], fds[1]);
    }
    ::close(fds[1]);
    if (pid < 0) {
      std::perror("switchboard-soak: fork");
      ::close(fds[0]);
      return false;
    }
    children[i].pid = pid;
    children[i].fd = fds[0];
  }
  return true;
}

// Takes what a child has written, or closes its pipe at its end. False when a
// line was bad or the child ended without its Final.
bool read_child(Child& c, Collector& collector) {
  char buf[65536];
  const ssize_t n = ::read(c.fd, buf, sizeof buf);
  if (n > 0) {
    c.buffer.append(buf, static_cast<std::size_t>(n));
    return consume_lines(c, collector);
  }
  if (n == 0 || (errno != EINTR && errno != EAGAIN)) {
    ::close(c.fd);
    c.fd = -1;
    if (!c.final_seen) {
      std::fprintf(stderr, "switchboard-soak: process %d ended without its report\n",
                   static_cast<int>(c.pid));
      collector.process_done(c.last_index);
      return false;
    }
  }
  return true;
}

// The parent's loop: merges the children's lines until every pipe is closed,
// passing on the signals it is sent meanwhile (stop_request.hpp).
bool collect(std::vector<Child>& children, Collector& collector) {
  bool ok = true;
  std::size_t open = children.size();
  std::vector<pollfd> polls;
  std::vector<pid_t> pids;
  for (const Child& c : children) pids.push_back(c.pid);
  while (open > 0) {
    forward_requests(pids);
    polls.clear();
    for (const Child& c : children) {
      if (c.fd >= 0) polls.push_back({c.fd, POLLIN, 0});
    }
    if (::poll(polls.data(), polls.size(), 1000) < 0 && errno != EINTR) break;
    for (const pollfd& p : polls) {
      if ((p.revents & (POLLIN | POLLHUP | POLLERR)) == 0) continue;
      for (Child& c : children) {
        if (c.fd != p.fd) continue;
        ok = read_child(c, collector) && ok;
        if (c.fd < 0) --open;
      }
    }
  }
  return ok;
}

}  // namespace

bool run_shares(const Options& o, const Env& prototype, const std::vector<Share>& shares,
                Collector& collector) {
  if (shares.size() == 1) {
    Runner runner(
        o, prototype, shares.front(), [&](const Interval& iv) { collector.add_interval(iv); },
        [&](const Final& f) {
          collector.add_final(f);
          collector.process_done(f.intervals);
        });
    return runner.run() == 0;
  }
  std::fflush(stdout);
  std::fflush(stderr);
  std::vector<Child> children(shares.size());
  if (!fork_children(o, prototype, shares, children)) return false;
  catch_parent_signals();
  const bool ok = collect(children, collector);
  restore_parent_signals();
  for (Child& c : children) {
    int status = 0;
    ::waitpid(c.pid, &status, 0);
  }
  return ok;
}

}  // namespace sb::soak
