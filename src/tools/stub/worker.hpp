// Worker: one of the stub's processes. It owns the event loop, its listener on the
// shared port (SO_REUSEPORT), its sessions, its end of the mesh and the Router.
//
// Descriptor budget: a worker must never hit the process's fd limit (20,000 here),
// so it counts what it holds (the fds open at start plus one per session) and
// pauses its listener at --fd-limit (default 19,500), resuming 100 below it
// (less for a tiny --fd-limit). A
// paused worker's share of new connections waits in its kernel accept queue
// (SO_REUSEPORT hashes them to it); that is acceptable for a test tool, and the
// log says when it happens.
#pragma once

#include <uv.h>

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "tools/stub/options.hpp"
#include "tools/stub/router.hpp"

namespace sb::net {
class Listener;
class LoopContext;
class TcpStream;
}  // namespace sb::net

namespace sb::stub {

class C2sSession;
class Mesh;

class Worker {
 public:
  // `mesh_fds[i]`: the link to worker i (-1 at `index`). `ready_fd` gets one byte
  // once listening ('R') or on failure ('F'), then is closed.
  Worker(const Options& options, std::size_t index, std::vector<int> mesh_fds, int ready_fd);
  Worker(const Worker&) = delete;
  Worker& operator=(const Worker&) = delete;
  ~Worker();

  // Runs until SIGTERM or SIGINT; returns the process's exit code.
  int run();

  // For sessions.
  Router& router() { return router_; }
  const Options& options() const { return options_; }
  std::size_t index() const { return index_; }
  // "p<index>-<counter>": unique over the stub's processes; tells which one answered.
  std::string next_stream_id();
  // 16 hex digits from a per-process generator (anonymous users, resources).
  std::string random_token();
  // The session's stream is closed: forget and free it.
  void session_closed(C2sSession* session);

 private:
  void on_accept(net::TcpStream& stream);
  void update_accepting();
  std::size_t resume_gap() const;
  void stop();
  static void on_signal(uv_signal_t* handle, int signum);

  Options options_;
  std::size_t index_;
  std::vector<int> mesh_fds_;
  int ready_fd_;
  uv_loop_t loop_{};
  std::unique_ptr<net::LoopContext> context_;
  std::unique_ptr<net::Listener> listener_;
  std::unique_ptr<Mesh> mesh_;
  Router router_;
  uv_signal_t sigterm_{};
  uv_signal_t sigint_{};
  std::size_t base_fds_ = 0;  // descriptors open before the first session
  std::size_t fd_high_ = 0;   // pause accepting at this many
  std::size_t sessions_ = 0;
  std::size_t peak_sessions_ = 0;
  std::uint64_t accepted_ = 0;
  std::uint64_t stream_counter_ = 0;
  std::uint64_t random_state_ = 0;
  bool paused_ = false;
  bool stopping_ = false;
};

}  // namespace sb::stub
