// Mesh: the links between the stub's worker processes, one Unix stream socket per
// pair of workers (socketpairs made by the parent before it forks; see
// supervisor.cpp), carrying length-prefixed frames.
//
// Why a full mesh and not a relay through the parent: a routed message then costs
// one write and one read, with no process in the middle to become the bottleneck,
// and the parent stays a trivial signal forwarder. N workers hold N-1 links each.
//
// A frame is: u32 length of what follows (little-endian), u8 kind, u16 length of
// the address, the address (a JID) and the payload (a whole stanza, or nothing).
// The sockets are read through the loop's shared buffer; only a frame split across
// reads is copied into the link's own buffer. Frames sent during one loop iteration
// are coalesced per link and written once, just before the loop polls again (a
// uv_prepare_t): under load that is one write(2) and one wake-up of the peer for
// many frames instead of one each, at no added latency.
//
// The links are libuv TCP handles opened on Unix sockets (net::TcpStream over
// uv_tcp_open): libuv's stream code is the same for both, and the stub never asks
// these handles for anything TCP-specific (no nodelay, no peer address).
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include <uv.h>

namespace sb::stub {

enum class FrameKind : std::uint8_t {
  kRegister = 1,    // address = a bare JID now held by the sender (to its directory)
  kUnregister = 2,  // address = a bare JID the sender no longer holds
  kRoute = 3,       // to the address's directory process: find the owner and deliver
  kDeliver = 4,     // to the owner: deliver to the address, or bounce
};

class FrameSink {
 public:
  virtual void on_frame(std::size_t from_proc, FrameKind kind, std::string_view address,
                        std::string_view payload) = 0;
  // A peer's link ended (the peer exited or the stub is stopping).
  virtual void on_peer_lost(std::size_t proc) = 0;

 protected:
  ~FrameSink() = default;
};

class Mesh {
 public:
  // `fds[i]` is this process's end of the link to worker i; fds[self] is -1.
  Mesh(uv_loop_t* loop, std::size_t self, const std::vector<int>& fds, FrameSink& sink);
  Mesh(const Mesh&) = delete;
  Mesh& operator=(const Mesh&) = delete;
  ~Mesh();

  std::size_t self() const { return self_; }
  std::size_t procs() const { return links_.size(); }

  // Queues one frame to worker `proc` (never self). Dropped if that link is gone.
  void send(std::size_t proc, FrameKind kind, std::string_view address, std::string_view payload);
  // Writes what is waiting, then closes every link (their handles are released as
  // the loop runs). Run the loop after close() before destroying the Mesh.
  void close();

  std::uint64_t frames_sent() const { return frames_sent_; }
  std::uint64_t frames_received() const { return frames_received_; }

 private:
  class Link;
  friend class Link;

  static void on_prepare(uv_prepare_t* handle);
  void flush();

  std::size_t self_;
  FrameSink& sink_;
  uv_prepare_t prepare_{};
  bool prepare_open_ = false;
  std::vector<Link*> dirty_;                  // links with frames waiting for flush()
  std::vector<std::unique_ptr<Link>> links_;  // null at self_
  std::uint64_t frames_sent_ = 0;
  std::uint64_t frames_received_ = 0;
};

}  // namespace sb::stub
