// SB_CHECK (base/check.hpp): in a build with checks on, a broken invariant aborts
// with where, what and why on stderr; in one without, the condition is not even
// evaluated.
#include <doctest/doctest.h>

#include <sys/wait.h>
#include <unistd.h>

#include <csignal>
#include <string>

#include "base/check.hpp"

namespace {

// Runs `body` in a child process; its exit (signal or status) and stderr.
template <typename Body>
std::pair<int, std::string> in_child(Body body) {
  int pipe_fds[2];
  REQUIRE(::pipe(pipe_fds) == 0);
  const pid_t pid = ::fork();
  REQUIRE(pid >= 0);
  if (pid == 0) {
    ::dup2(pipe_fds[1], STDERR_FILENO);
    ::close(pipe_fds[0]);
    body();
    ::_exit(0);
  }
  ::close(pipe_fds[1]);
  std::string err;
  char buffer[512];
  for (ssize_t n; (n = ::read(pipe_fds[0], buffer, sizeof buffer)) > 0;) {
    err.append(buffer, static_cast<std::size_t>(n));
  }
  ::close(pipe_fds[0]);
  int status = 0;
  ::waitpid(pid, &status, 0);
  const int outcome = WIFSIGNALED(status) ? -WTERMSIG(status) : WEXITSTATUS(status);
  return {outcome, err};
}

}  // namespace

TEST_CASE("a kept invariant passes, in every build") {
  const auto [outcome, err] = in_child([] { SB_CHECK(1 + 1 == 2, "arithmetic"); });
  CHECK(outcome == 0);
  CHECK(err.empty());
}

TEST_CASE("a broken invariant aborts with where, what and why, when checks are on") {
  const auto [outcome, err] = in_child([] { SB_CHECK(1 + 1 == 3, "arithmetic is broken"); });
  if (sb::base::kChecksOn) {
    CHECK(outcome == -SIGABRT);
    CHECK(err.find("check_test.cpp:") != std::string::npos);
    CHECK(err.find("invariant broken: 1 + 1 == 3 (arithmetic is broken)") != std::string::npos);
  } else {
    CHECK(outcome == 0);
    CHECK(err.empty());
  }
}

TEST_CASE("the condition is evaluated only when checks are on") {
  int evaluated = 0;
  SB_CHECK(++evaluated > 0, "counts its evaluations");
  CHECK(evaluated == (sb::base::kChecksOn ? 1 : 0));
}
