// LoopContext: what every object on one worker's event loop shares.
//
// - the uv_loop_t itself;
// - ONE read buffer for every socket on the loop: libuv's alloc callback hands this
//   buffer out, the read callback consumes it synchronously, so an idle connection
//   owns no receive buffer at all (a million idle sessions would otherwise pin
//   gigabytes). Whoever cannot consume all bytes at once copies the leftover out;
// - the TimerWheel (base/) and the single uv_timer_t that advances it.
//
// Creating a LoopContext also sets SIGPIPE to ignored for the process: libuv writes
// with write()/writev(), and a write to a reset peer must fail with EPIPE rather than
// kill the worker.
#pragma once

#include <uv.h>

#include <array>
#include <cstdint>

#include "base/timer_wheel.hpp"

namespace sb::net {

class LoopContext {
 public:
  static constexpr std::size_t kReadBufferBytes = 64 * 1024;

  explicit LoopContext(uv_loop_t* loop);
  LoopContext(const LoopContext&) = delete;
  LoopContext& operator=(const LoopContext&) = delete;
  // Stop ticking and run the loop before destroying the context; if the ticker is
  // still open here, the destructor closes it and runs the loop (UV_RUN_NOWAIT) until
  // libuv lets go of it, so never destroy a context from inside a libuv callback.
  ~LoopContext();

  uv_loop_t* loop() const { return loop_; }
  base::TimerWheel& timers() { return wheel_; }
  // The loop's clock and the wheel's brought to now, after this thread held the
  // loop still (an upgrade in place): deadlines armed next count from now, not
  // from before the pause. Nothing due fires here; the next tick fires it.
  void catch_up();
  std::uint64_t now_ms() const { return uv_now(loop_); }

  // libuv alloc callback that hands out the shared read buffer.
  static void alloc_shared(uv_handle_t* handle, std::size_t suggested, uv_buf_t* buf);

  // Starts the uv_timer_t that advances the wheel every tick. Stop before closing
  // the loop (it is closed by stop_ticking()). The ticker is unref'd: it never keeps
  // the loop alive by itself. Without it, nothing armed on the wheel ever fires.
  //
  // While the wheel is empty the ticker sleeps: a tick that leaves no node armed
  // schedules no next tick, and arming the first node again (TimerWheel's wake
  // hook) catches the wheel's clock up and schedules one. An idle worker (a
  // hundred of them in a scale run) then wakes up for nothing.
  void start_ticking();
  void stop_ticking();
  // True while a tick is scheduled (running and the wheel not empty).
  bool ticking() const { return ticker_state_ == TickerState::kRunning && !sleeping_; }

 private:
  enum class TickerState { kStopped, kRunning, kClosing };
  void schedule_tick();
  static void on_tick(uv_timer_t* timer);
  static void on_ticker_closed(uv_handle_t* handle);
  static void on_wheel_wake(void* context);

  uv_loop_t* loop_;
  base::TimerWheel wheel_;
  uv_timer_t ticker_{};
  TickerState ticker_state_ = TickerState::kStopped;
  bool restart_after_close_ = false;
  bool sleeping_ = false;  // running, but no tick scheduled: the wheel is empty
  alignas(16) std::array<char, kReadBufferBytes> read_buffer_{};
};

// Every uv handle that net/ wraps stores the LoopContext* in loop->data.
LoopContext& context_of(uv_loop_t* loop);

// For the end of a process's loop: closes every handle still open and runs the
// loop until their close callbacks have run.
void close_remaining_handles(uv_loop_t* loop);

}  // namespace sb::net
