// Heartbeat: a supervised worker's sign of life for the supervisor's hang watch
// (supervisor.hpp, "Hung workers").
//
// Every worker_hang_timeout / 4 a timer of the worker's own loop sends an "alive"
// control message up the IPC pipe. A timer only fires when the loop comes round
// to it, so the beats stop exactly when the loop stops turning: an endless loop in
// a callback, a deadlock, a SIGSTOP, a process stuck in the kernel. The
// supervisor kills a worker that has been silent for the whole timeout; four
// beats per timeout leave room for a few late ones. The cost is one timer and one
// write of a dozen bytes per interval, whatever the load.
//
// The timer is unreferenced: it never keeps a loop alive that has nothing else to
// do, and a worker that shuts down closes it with its other handles.
#pragma once

#include <uv.h>

#include <cstdint>
#include <functional>

namespace sb::app {

class Heartbeat {
 public:
  using BeatFn = std::function<void()>;

  // The control message's kind.
  static constexpr const char* kKind = "alive";

  // How often a worker beats for a hang timeout of `timeout_s` seconds (not 0).
  static std::uint64_t interval_ms(std::uint32_t timeout_s);

  // `beat` sends one heartbeat; it is called from the loop's timer.
  Heartbeat(uv_loop_t* loop, BeatFn beat);
  Heartbeat(const Heartbeat&) = delete;
  Heartbeat& operator=(const Heartbeat&) = delete;
  // close() must have been called and the loop run (or never started: no handle).
  ~Heartbeat() = default;

  // Beats for a hang timeout of `timeout_s` seconds from now on, the first beat at
  // once; 0 stops the beats (the watch is off). Call again after a reload.
  void set_timeout(std::uint32_t timeout_s);
  // Stops the beats for good and closes the timer. Idempotent.
  void close();

 private:
  static void on_tick(uv_timer_t* timer);

  BeatFn beat_;
  uv_timer_t timer_{};
  bool open_ = true;
  std::uint32_t timeout_s_ = 0;
};

}  // namespace sb::app
