// KeeperProcess: the supervisor's handle on one worker slot's keeper (keeper.hpp):
// starts it (the same binary, `--keeper I`), keeps both ends of its socket for
// the slot's every process, starts it again when it dies, and stops it once
// the workers are gone. Without keep_sessions, or with one worker (no
// supervisor), there is none.
//
// The socket outlives the keeper: the supervisor holds the keeper's end too, so
// a keeper that dies (a crash, an out-of-memory kill) leaves the socket open. The
// worker's messages wait in it (a full socket makes the worker try again each
// turn, it never blocks); the next keeper reads them, then asks the worker for
// every session again (kResync), sockets included, and writes a new journal.
// Meanwhile the worker's sessions are not kept: a worker that dies in those
// milliseconds loses the sessions the new keeper has not yet had.
#pragma once

#include <uv.h>

#include <cstdint>
#include <string>

namespace sb::app {

class KeeperProcess {
 public:
  static constexpr std::uint64_t kRestartMs = 100;

  // `workers`: the daemon's worker count (which journals of a crashed daemon the
  // keeper reads: journal.hpp's orphan_journals()).
  KeeperProcess(uv_loop_t* loop, std::uint32_t index, std::uint32_t workers);
  ~KeeperProcess();
  KeeperProcess(const KeeperProcess&) = delete;
  KeeperProcess& operator=(const KeeperProcess&) = delete;

  // Starts the keeper; false with `error` (the slot's workers then run unkept).
  // `log_level` and `log_file` as the daemon's; `state_dir` where its journal
  // goes ("" = none).
  bool start(const std::string& log_level, const std::string& log_file,
             const std::string& state_dir, std::string& error);
  // The worker's end of the keeper's socket, for each worker process of the
  // slot (kWorkerKeeperFd); -1 when no keeper could be started. It stays the
  // same while a keeper that died is started again.
  int worker_fd() const { return worker_fd_; }
  // Keepers started again after one died.
  std::uint64_t restarts() const { return restarts_; }
  // Ends it (the workers are gone: nothing it holds is needed) and closes the
  // handles, so that the loop can end.
  void stop();

 private:
  bool spawn(std::string& error);
  static void on_exit(uv_process_t* process, std::int64_t status, int signal);
  static void on_closed(uv_handle_t* handle);
  static void on_restart(uv_timer_t* timer);

  uv_loop_t* loop_;
  std::uint32_t index_;
  std::uint32_t workers_;
  uv_process_t process_{};
  uv_timer_t restart_timer_{};
  bool spawned_ = false;  // the process handle is initialized (to close)
  bool running_ = false;
  bool stopping_ = false;
  int keeper_fd_ = -1;  // the keeper's end, given to each keeper process
  int worker_fd_ = -1;
  std::string log_level_;
  std::string log_file_;
  std::string state_dir_;
  std::string journal_;  // its journal's path, removed at a clean stop ("" = none)
  std::uint64_t restarts_ = 0;
};

}  // namespace sb::app
