// KeeperProcess: the supervisor's handle on one worker slot's keeper (keeper.hpp):
// starts it (the same binary, `--keeper I`), keeps the worker's end of its
// socket for the slot's every worker process, and stops it once the workers are
// gone. Without keep_sessions, or with one worker (no supervisor), there is none.
#pragma once

#include <uv.h>

#include <cstdint>
#include <string>

namespace sb::app {

class KeeperProcess {
 public:
  KeeperProcess(uv_loop_t* loop, std::uint32_t index);
  ~KeeperProcess();
  KeeperProcess(const KeeperProcess&) = delete;
  KeeperProcess& operator=(const KeeperProcess&) = delete;

  // Starts the keeper; false with `error` (the slot's workers then run unkept).
  // `log_level` and `log_file` as the daemon's; `state_dir` where its journal
  // goes ("" = none).
  bool start(const std::string& log_level, const std::string& log_file,
             const std::string& state_dir, std::string& error);
  // The worker's end of the keeper's socket, for each worker process of the
  // slot (kWorkerKeeperFd); -1 when no keeper runs.
  int worker_fd() const { return running_ ? worker_fd_ : -1; }
  // Ends it (the workers are gone: nothing it holds is needed) and closes the
  // handle, so that the loop can end.
  void stop();

 private:
  static void on_exit(uv_process_t* process, std::int64_t status, int signal);

  uv_loop_t* loop_;
  std::uint32_t index_;
  uv_process_t process_{};
  bool spawned_ = false;  // the handle is initialized (to close)
  bool running_ = false;
  int worker_fd_ = -1;
  std::string journal_;  // its journal's path, removed at a clean stop ("" = none)
};

}  // namespace sb::app
