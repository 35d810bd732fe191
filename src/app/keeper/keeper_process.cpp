// The supervisor's handle on a keeper; see keeper_process.hpp.
#include "app/keeper/keeper_process.hpp"

#include <unistd.h>

#include <csignal>
#include <utility>
#include <vector>

#include "app/keeper/journal.hpp"
#include "app/keeper/keeper.hpp"
#include "app/keeper/keeper_link.hpp"
#include "app/log/log.hpp"

namespace sb::app {

KeeperProcess::KeeperProcess(uv_loop_t* loop, std::uint32_t index, std::uint32_t workers)
    : loop_(loop), index_(index), workers_(workers) {
  process_.data = this;
  uv_timer_init(loop_, &restart_timer_);
  restart_timer_.data = this;
}

KeeperProcess::~KeeperProcess() {
  if (keeper_fd_ >= 0) ::close(keeper_fd_);
  if (worker_fd_ >= 0) ::close(worker_fd_);
}

bool KeeperProcess::start(const std::string& log_level, const std::string& log_file,
                          const std::string& state_dir, std::string& error) {
  int fds[2];
  if (!make_keeper_pair(fds, error)) return false;
  keeper_fd_ = fds[0];
  worker_fd_ = fds[1];
  log_level_ = log_level;
  log_file_ = log_file;
  state_dir_ = state_dir;
  if (!state_dir.empty()) journal_ = state_dir + "/" + journal_name(index_, ::getpid());
  if (!spawn(error)) {
    ::close(std::exchange(keeper_fd_, -1));
    ::close(std::exchange(worker_fd_, -1));
    return false;
  }
  return true;
}

bool KeeperProcess::spawn(std::string& error) {
  std::vector<std::string> args{"switchboard-keeper",
                                std::string(kKeeperOption),
                                std::to_string(index_),
                                log_level_,
                                log_file_,
                                state_dir_,
                                std::to_string(workers_)};
  std::vector<char*> argv;
  for (std::string& arg : args) argv.push_back(arg.data());
  argv.push_back(nullptr);
  uv_stdio_container_t stdio[kKeeperFd + 1];
  for (int fd = 0; fd < kKeeperFd; ++fd) {
    stdio[fd].flags = UV_INHERIT_FD;
    stdio[fd].data.fd = fd;
  }
  stdio[kKeeperFd].flags = UV_INHERIT_FD;
  stdio[kKeeperFd].data.fd = keeper_fd_;
  uv_process_options_t options{};
  options.exit_cb = &KeeperProcess::on_exit;
  options.file = "/proc/self/exe";
  options.args = argv.data();
  options.stdio = stdio;
  options.stdio_count = kKeeperFd + 1;
  const int rc = uv_spawn(loop_, &process_, &options);
  spawned_ = true;
  if (rc != 0) {
    error = std::string("cannot start the keeper: ") + uv_strerror(rc);
    return false;
  }
  // The keeper never ends the loop by itself running: it lives as long as we do.
  uv_unref(reinterpret_cast<uv_handle_t*>(&process_));
  running_ = true;
  SB_LOG_INFO("keeper %u started (pid %d)", index_, process_.pid);
  return true;
}

void KeeperProcess::on_exit(uv_process_t* process, std::int64_t status, int signal) {
  auto* self = static_cast<KeeperProcess*>(process->data);
  self->running_ = false;
  if (self->stopping_) return;
  SB_LOG_ERROR(
      "keeper %u (pid %d) ended (status %lld, signal %d); starting it again: worker %u sends it "
      "every session again",
      self->index_, process->pid, static_cast<long long>(status), signal, self->index_);
  // The handle is reused once closed.
  uv_close(reinterpret_cast<uv_handle_t*>(process), &KeeperProcess::on_closed);
}

void KeeperProcess::on_closed(uv_handle_t* handle) {
  auto* self = static_cast<KeeperProcess*>(handle->data);
  self->spawned_ = false;
  if (self->stopping_) return;
  uv_timer_start(&self->restart_timer_, &KeeperProcess::on_restart, kRestartMs, 0);
}

void KeeperProcess::on_restart(uv_timer_t* timer) {
  auto* self = static_cast<KeeperProcess*>(timer->data);
  if (self->stopping_) return;
  std::string error;
  self->process_ = uv_process_t{};
  self->process_.data = self;
  if (!self->spawn(error)) {
    SB_LOG_ERROR("keeper %u: %s; trying again", self->index_, error.c_str());
    if (self->spawned_) {
      uv_close(reinterpret_cast<uv_handle_t*>(&self->process_), &KeeperProcess::on_closed);
    } else {
      uv_timer_start(&self->restart_timer_, &KeeperProcess::on_restart, kRestartMs, 0);
    }
    return;
  }
  ++self->restarts_;
}

void KeeperProcess::stop() {
  stopping_ = true;
  uv_timer_stop(&restart_timer_);
  if (!uv_is_closing(reinterpret_cast<uv_handle_t*>(&restart_timer_))) {
    uv_close(reinterpret_cast<uv_handle_t*>(&restart_timer_), nullptr);
  }
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
  if (spawned_ && !uv_is_closing(reinterpret_cast<uv_handle_t*>(&process_))) {
    uv_close(reinterpret_cast<uv_handle_t*>(&process_), nullptr);
  }
}

}  // namespace sb::app
