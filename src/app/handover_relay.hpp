// HandoverRelay: the supervisor's part of the hand-over (design.md, "Processes").
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
// process when it is attached. Its sessions are gone, so it answers them
// item-not-found, which is what tells the client. Waiting hand-overs beyond the
// cap, and all of them at shutdown, are dropped: the connection is closed.
//
// Control messages (handover_wire.hpp) share the pipes: send_control() writes one
// to a worker, and those a worker sends go to the ControlFn.
#pragma once

#include <uv.h>

#include <array>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <string_view>
#include <vector>

#include "app/handover_wire.hpp"

namespace sb::app {

struct RelayCounters {
  std::uint64_t relayed = 0;  // sockets written to their owner's pipe
  std::uint64_t dropped = 0;  // sockets closed: no owner, corrupt frame, cap, shutdown
};

class HandoverRelay {
 public:
  static constexpr std::size_t kMaxWaiting = 1024;

  HandoverRelay(uv_loop_t* loop, std::uint32_t workers);
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

  const RelayCounters& counters() const { return counters_; }

 private:
  struct Relay;
  struct Channel;

  void on_bytes(Channel& channel, const char* data, std::size_t size);
  void take_pending_sockets(Channel& channel);
  void deliver(Relay* relay);
  void write(Channel& channel, Relay* relay);
  void drop(Relay* relay);
  void stop_reading(Channel& channel);
  static void on_alloc(uv_handle_t* handle, std::size_t suggested, uv_buf_t* buf);
  static void on_read(uv_stream_t* stream, ssize_t nread, const uv_buf_t* buf);
  static void on_written(uv_write_t* req, int status);
  static void on_relay_closed(uv_handle_t* handle);

  uv_loop_t* loop_;
  std::vector<std::unique_ptr<Channel>> channels_;
  bool closed_ = false;
  RelayCounters counters_;
  ControlFn control_;
  // Reads are consumed synchronously, so every pipe shares this buffer.
  std::array<char, 64 * 1024> read_buffer_{};
};

}  // namespace sb::app
