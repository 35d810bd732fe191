// CapturedLog: points the log at a pipe for a test's lifetime and restores stderr
// (and the level and worker tag) after; drain() returns what was written since.
#pragma once

#include <doctest/doctest.h>
#include <fcntl.h>
#include <unistd.h>

#include <string>

#include "app/log/log.hpp"

namespace sb::test {

struct CapturedLog {
  CapturedLog() {
    REQUIRE(pipe(fds) == 0);
    fcntl(fds[0], F_SETFL, O_NONBLOCK);
    sb::app::set_log_fd(fds[1]);
  }
  ~CapturedLog() {
    sb::app::set_log_fd(STDERR_FILENO);
    sb::app::set_log_level(sb::app::LogLevel::kInfo);
    sb::app::set_worker_index(-1);
    close(fds[0]);
    close(fds[1]);
  }
  CapturedLog(const CapturedLog&) = delete;
  CapturedLog& operator=(const CapturedLog&) = delete;

  // Everything written to the pipe so far.
  std::string drain() {
    std::string text;
    char buffer[65536];
    for (;;) {
      const ssize_t n = read(fds[0], buffer, sizeof buffer);
      if (n <= 0) break;
      text.append(buffer, static_cast<std::size_t>(n));
    }
    return text;
  }
  int fds[2] = {-1, -1};
};

}  // namespace sb::test
