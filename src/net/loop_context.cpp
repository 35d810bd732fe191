// LoopContext: the per-loop shared state (read buffer, timer wheel, wheel ticker).
//
// The ticker is a single uv_timer_t that advances the TimerWheel every kTickMs, at
// the wheel's slot boundaries, and sleeps while the wheel is empty. It is unref'd: a loop whose only remaining work is
// the ticker has nothing to do, so it must be allowed to end. Everything that waits
// on the wheel (a held request, a connect attempt) keeps the loop alive through its
// own socket or request.
#include "net/loop_context.hpp"

#include <csignal>

namespace sb::net {

LoopContext::LoopContext(uv_loop_t* loop) : loop_(loop), wheel_(uv_now(loop)) {
  loop_->data = this;
  wheel_.set_wake(&LoopContext::on_wheel_wake, this);
  // libuv writes to sockets with write()/writev(), not send(MSG_NOSIGNAL): a write to
  // a peer that reset the connection raises SIGPIPE, which would kill the whole
  // worker. With the signal ignored the write fails with EPIPE like any other error.
  std::signal(SIGPIPE, SIG_IGN);
}

LoopContext::~LoopContext() {
  // A context must not disappear while libuv still links its ticker handle. Owners
  // call stop_ticking() and run the loop first; this is the safety net for those who
  // did not. It runs the loop, so it must not happen inside a libuv callback.
  stop_ticking();
  while (ticker_state_ == TickerState::kClosing) uv_run(loop_, UV_RUN_NOWAIT);
  if (loop_->data == this) loop_->data = nullptr;
}

void LoopContext::alloc_shared(uv_handle_t* handle, std::size_t /*suggested*/, uv_buf_t* buf) {
  // The read callback consumes the bytes before libuv asks for the next buffer, so
  // one buffer serves every stream on the loop.
  LoopContext& ctx = context_of(handle->loop);
  buf->base = ctx.read_buffer_.data();
  buf->len = ctx.read_buffer_.size();
}

void LoopContext::start_ticking() {
  switch (ticker_state_) {
    case TickerState::kRunning: return;
    case TickerState::kClosing:
      // The handle cannot be reused before its close callback; restart from there.
      restart_after_close_ = true;
      return;
    case TickerState::kStopped: break;
  }
  uv_timer_init(loop_, &ticker_);
  ticker_.data = this;
  uv_unref(reinterpret_cast<uv_handle_t*>(&ticker_));
  schedule_tick();
  sleeping_ = false;
  ticker_state_ = TickerState::kRunning;
}

void LoopContext::stop_ticking() {
  restart_after_close_ = false;
  sleeping_ = false;
  if (ticker_state_ != TickerState::kRunning) return;
  ticker_state_ = TickerState::kClosing;
  uv_close(reinterpret_cast<uv_handle_t*>(&ticker_), on_ticker_closed);
}

// Each tick is due at the next multiple of kTickMs, where a wheel slot begins. A
// ticker with its own phase could look at the wheel just before a slot's time and
// only again a whole tick later, firing nodes up to two ticks late instead of one.
void LoopContext::schedule_tick() {
  const std::uint64_t now = uv_now(loop_);
  uv_timer_start(&ticker_, on_tick, base::TimerWheel::kTickMs - now % base::TimerWheel::kTickMs, 0);
}

void LoopContext::catch_up() {
  uv_update_time(loop_);
  if (wheel_.empty()) wheel_.advance(uv_now(loop_));
}

void LoopContext::on_tick(uv_timer_t* timer) {
  auto* self = static_cast<LoopContext*>(timer->data);
  self->wheel_.advance(uv_now(self->loop_));
  // Callbacks may have stopped the ticker. Nothing armed: sleep until something is.
  if (self->ticker_state_ != TickerState::kRunning) return;
  if (self->wheel_.empty()) {
    self->sleeping_ = true;
  } else {
    self->schedule_tick();
  }
}

// The first node is being armed on an empty wheel. The wheel's clock stood still
// while it slept: bring it to now (nothing can fire, it is empty) so the node's
// deadline counts from now, and tick again.
void LoopContext::on_wheel_wake(void* context) {
  auto* self = static_cast<LoopContext*>(context);
  if (self->ticker_state_ != TickerState::kRunning || !self->sleeping_) return;
  self->sleeping_ = false;
  uv_update_time(self->loop_);
  self->wheel_.advance(uv_now(self->loop_));
  self->schedule_tick();
}

void LoopContext::on_ticker_closed(uv_handle_t* handle) {
  auto* self = static_cast<LoopContext*>(handle->data);
  self->ticker_state_ = TickerState::kStopped;
  if (self->restart_after_close_) {
    self->restart_after_close_ = false;
    self->start_ticking();
  }
}

LoopContext& context_of(uv_loop_t* loop) { return *static_cast<LoopContext*>(loop->data); }

void close_remaining_handles(uv_loop_t* loop) {
  uv_walk(
      loop,
      [](uv_handle_t* handle, void*) {
        if (uv_is_closing(handle) == 0) uv_close(handle, nullptr);
      },
      nullptr);
  uv_run(loop, UV_RUN_DEFAULT);
}

}  // namespace sb::net
