// HandoverRelay: the supervisor's part of the hand-over (docs/architecture.md, "Processes").
//
// Workers do not talk to each other: each has one IPC pipe, to the supervisor. A
// worker that receives a request for another worker's session sends the socket
// and the request bytes (one frame, handover_wire.hpp) up its pipe; the relay
// takes the socket into a handle of its own, writes the frame with the socket to
// the owner's pipe and closes its handle once that write has completed. That is
// all the supervisor does per hand-over: it never parses HTTP, so a hundred
// workers cost it a hundred pipes and nothing per request beyond passing handles.
//
// A worker that is down (it died and waits for its restart) cannot take its
// hand-overs: they wait here, at most kMaxWaiting per worker, and go to the new
// process when it is attached, kMaxInFlightPerWorker writes at a time (the rest
// follow as writes complete; a worker that reads its pipe slower than hand-overs
// come has them wait the same way). With keep_sessions the new process has taken up
// the dead one's sessions (docs/crash.md): every client of that worker resends
// at once, so thousands may wait for a moment. Without, it answers them
// item-not-found, which is what tells the client. Hand-overs beyond the cap are
// answered 503; at shutdown the waiting ones are dropped (the connection closed).
//
// Each pipe is read with net::IpcReader: every frame waiting is read in one
// wake-up, and sockets are paired with frames by their place in the stream
// (handover_wire.hpp), so a lost socket costs one request, never the pipe.
//
// The relay holds a descriptor for every socket between its arrival and the
// completed write to the owner, so it bounds them: at most kMaxInFlightPerWorker
// writes queued to one worker's pipe and kMaxWaiting more waiting their turn (a
// worker that does not read its pipe in time), and at most max_held() sockets in
// all: half of what the file limit leaves besides the pipes and the rest (a
// process at its limit is handed frames without their sockets). A hand-over
// beyond either bound is answered at once on its socket with a plain HTTP 503 and
// Retry-After and closed: the client retries, as it does for any 503, instead of
// waiting for an answer that would come too late.
//
// Control messages (handover_wire.hpp) share the pipes: send_control() writes one
// to a worker, and those a worker sends go to the ControlFn.
#pragma once

#include <uv.h>

#include <cstddef>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <string_view>
#include <vector>

#include "app/handover/handover_wire.hpp"
#include "net/ipc_reader.hpp"

namespace sb::app {

struct RelayCounters {
  std::uint64_t relayed = 0;  // sockets written to their owner's pipe
  std::uint64_t dropped = 0;  // sockets closed: no owner, corrupt frame, cap, shutdown
  std::uint64_t refused = 0;  // of those: answered 503 (the owner or the relay was full)
  std::uint64_t lost =
      0;  // frames whose socket never came (MSG_CTRUNC), or sockets no frame claimed
  std::uint64_t resyncs = 0;  // corrupt headers skipped
};

class HandoverRelay {
 public:
  static constexpr std::size_t kMaxWaiting = 16384;  // and max_held() in all
  static constexpr std::size_t kMaxInFlightPerWorker = 2048;

  // `max_held`: sockets the relay may hold at once (0: from the file limit).
  HandoverRelay(uv_loop_t* loop, std::uint32_t workers, std::size_t max_held = 0);
  HandoverRelay(const HandoverRelay&) = delete;
  HandoverRelay& operator=(const HandoverRelay&) = delete;
  ~HandoverRelay();

  // Worker `index` runs with `pipe` (an open IPC pipe): start reading it and send
  // it the hand-overs that waited. The relay uses pipe->data until detach().
  void attach(std::uint32_t index, uv_pipe_t* pipe);
  // Worker `index` is gone: stop reading its pipe (call before closing the pipe).
  // Writes still queued on it fail when it is closed; their sockets then wait for
  // the next attach like any other.
  void detach(std::uint32_t index);
  // Shutdown: drop every waiting hand-over, and every one that arrives from now on.
  void close_all();

  using ControlFn = std::function<void(std::uint32_t worker, const ControlMessage& message)>;
  void set_control_handler(ControlFn handler) { control_ = std::move(handler); }
  // Sends a control message to worker `index`. False if its pipe cannot take it
  // (the worker is down or going): then it is not sent at all.
  bool send_control(std::uint32_t index, std::string_view kind, std::string_view body);
  // Sends worker `index` the socket `fd` in a kUpgradeGateTarget frame (the
  // relay owns `fd` from now on, and closes its copy once written). False, and
  // `fd` closed, if the worker's pipe cannot take it now.
  bool send_gate(std::uint32_t index, int fd);

  // Reads what worker `index` has sent and not yet been read, now. False if its
  // pipe is not being read (the worker is down or its pipe ended).
  bool read_now(std::uint32_t index);
  // True if bytes from worker `index` wait unread in its pipe (read_now() reads
  // a bounded number of chunks): the worker wrote them, so it was not silent.
  bool has_unread(std::uint32_t index) const;

  const RelayCounters& counters() const { return counters_; }
  // Client sockets this process holds open right now, and the most it will.
  std::size_t held() const { return held_; }
  std::size_t max_held() const { return max_held_; }

 private:
  struct Relay;
  struct Channel;

  bool on_chunk(Channel& channel, net::IpcReader::Chunk& chunk);
  void on_frame(Channel& channel, HandoverFrame& frame);
  void deliver(Relay* relay);
  void send_waiting(Channel& channel);
  void write(Channel& channel, Relay* relay);
  void drop(Relay* relay);
  void refuse(Relay* relay);
  void release(Relay* relay);
  void update_budget();
  void stop_reading(Channel& channel);
  static void on_written(uv_write_t* req, int status);
  static void on_relay_closed(uv_handle_t* handle);

  uv_loop_t* loop_;
  std::vector<std::unique_ptr<Channel>> channels_;
  bool closed_ = false;
  RelayCounters counters_;
  ControlFn control_;
  // Every pipe is read into this one buffer: a chunk is consumed before the next read.
  std::vector<char> read_buffer_ = std::vector<char>(64 * 1024);
  std::size_t held_ = 0;            // descriptors of client sockets this process holds open
  std::size_t fixed_max_held_ = 0;  // given to the constructor; 0: from the file limit
  std::size_t max_held_ = 0;
  std::uint64_t baseline_fds_ = 0;  // open besides held_, counted at each attach
};

}  // namespace sb::app
