// A worker's heartbeat timer; see heartbeat.hpp.
#include "app/process/heartbeat.hpp"

#include <algorithm>
#include <utility>

namespace sb::app {

std::uint64_t Heartbeat::interval_ms(std::uint32_t timeout_s) {
  return std::max<std::uint64_t>(std::uint64_t{timeout_s} * 1000 / 4, 1);
}

Heartbeat::Heartbeat(uv_loop_t* loop, BeatFn beat) : beat_(std::move(beat)) {
  uv_timer_init(loop, &timer_);
  timer_.data = this;
  uv_unref(reinterpret_cast<uv_handle_t*>(&timer_));
}

void Heartbeat::set_timeout(std::uint32_t timeout_s) {
  if (!open_ || timeout_s == timeout_s_) return;
  timeout_s_ = timeout_s;
  if (timeout_s == 0) {
    uv_timer_stop(&timer_);
    return;
  }
  // A beat now: the supervisor may already be counting the new, shorter timeout.
  beat_();
  const std::uint64_t every = interval_ms(timeout_s);
  uv_timer_start(&timer_, &Heartbeat::on_tick, every, every);
}

void Heartbeat::close() {
  if (!open_) return;
  open_ = false;
  uv_close(reinterpret_cast<uv_handle_t*>(&timer_), nullptr);
}

void Heartbeat::on_tick(uv_timer_t* timer) { static_cast<Heartbeat*>(timer->data)->beat_(); }

}  // namespace sb::app
