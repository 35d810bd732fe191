// The supervisor's handle on a keeper; see keeper_process.hpp.
#include "app/keeper/keeper_process.hpp"

#include <unistd.h>

#include <csignal>
#include <vector>

#include "app/keeper/journal.hpp"
#include "app/keeper/keeper.hpp"
#include "app/keeper/keeper_link.hpp"
#include "app/log/log.hpp"

namespace sb::app {

KeeperProcess::KeeperProcess(uv_loop_t* loop, std::uint32_t index) : loop_(loop), index_(index) {
  process_.data = this;
}

KeeperProcess::~KeeperProcess() {
  if (worker_fd_ >= 0) ::close(worker_fd_);
}

bool KeeperProcess::start(const std::string& log_level, const std::string& log_file,
                          const std::string& state_dir, std::string& error) {
  int fds[2];
  if (!make_keeper_pair(fds, error)) return false;
  std::vector<std::string> args{"switchboard-keeper",
                                std::string(kKeeperOption),
                                std::to_string(index_),
                                log_level,
                                log_file,
                                state_dir};
  if (!state_dir.empty()) journal_ = state_dir + "/" + journal_name(index_, ::getpid());
  std::vector<char*> argv;
  for (std::string& arg : args) argv.push_back(arg.data());
  argv.push_back(nullptr);
  uv_stdio_container_t stdio[kKeeperFd + 1];
  for (int fd = 0; fd < kKeeperFd; ++fd) {
    stdio[fd].flags = UV_INHERIT_FD;
    stdio[fd].data.fd = fd;
  }
  stdio[kKeeperFd].flags = UV_INHERIT_FD;
  stdio[kKeeperFd].data.fd = fds[0];
  uv_process_options_t options{};
  options.exit_cb = &KeeperProcess::on_exit;
  options.file = "/proc/self/exe";
  options.args = argv.data();
  options.stdio = stdio;
  options.stdio_count = kKeeperFd + 1;
  const int rc = uv_spawn(loop_, &process_, &options);
  spawned_ = true;
  ::close(fds[0]);  // the keeper's now
  if (rc != 0) {
    ::close(fds[1]);
    error = std::string("cannot start the keeper: ") + uv_strerror(rc);
    return false;
  }
  // The keeper never ends the loop by itself running: it lives as long as we do.
  uv_unref(reinterpret_cast<uv_handle_t*>(&process_));
  worker_fd_ = fds[1];
  running_ = true;
  SB_LOG_INFO("keeper %u started (pid %d)", index_, process_.pid);
  return true;
}

void KeeperProcess::on_exit(uv_process_t* process, std::int64_t status, int signal) {
  auto* self = static_cast<KeeperProcess*>(process->data);
  if (self->running_) {
    SB_LOG_ERROR(
        "keeper %u (pid %d) ended (status %lld, signal %d): worker %u's sessions are "
        "no longer kept",
        self->index_, process->pid, static_cast<long long>(status), signal, self->index_);
  }
  self->running_ = false;
}

void KeeperProcess::stop() {
  if (!spawned_) return;
  if (running_) {
    running_ = false;
    uv_process_kill(&process_, SIGKILL);
  }
  // A clean stop: the sessions it described ended (or moved to a new daemon,
  // whose keepers write their own), so the next start has nothing to learn.
  if (!journal_.empty()) {
    ::unlink(journal_.c_str());
    ::unlink((journal_ + ".new").c_str());
    journal_.clear();
  }
  if (!uv_is_closing(reinterpret_cast<uv_handle_t*>(&process_))) {
    uv_close(reinterpret_cast<uv_handle_t*>(&process_), nullptr);
  }
}

}  // namespace sb::app
