// LoopFixture: a private uv_loop_t with its LoopContext for one test, and the check
// every net test ends with (libuv's MAKE_VALGRIND_HAPPY): close what is left, run the
// loop dry, and require that uv_loop_close() succeeds, i.e. that no handle or request
// outlived the test, and that every TcpStream was freed.
//
// A watchdog timer (unref'd, so it never keeps the loop alive) stops a test that
// would otherwise hang; finish() then fails it.
//
// Recorder is a StreamHandler that writes down everything it is told, with optional
// hooks for tests that must react (echo, close on EOF, ...).
#pragma once

#include <doctest/doctest.h>
#include <uv.h>

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>

#include "net/listener.hpp"
#include "net/loop_context.hpp"
#include "net/tcp_stream.hpp"

namespace sb::net::test {

class LoopFixture {
 public:
  // Generous: a passing test takes well under a second, but valgrind is slow.
  static constexpr std::uint64_t kWatchdogMs = 20000;

  LoopFixture() : streams_before_(TcpStream::live_count()) {
    REQUIRE(uv_loop_init(&loop_) == 0);
    context_.emplace(&loop_);
    context_->start_ticking();
    uv_timer_init(&loop_, &watchdog_);
    watchdog_.data = this;
    uv_timer_start(
        &watchdog_,
        [](uv_timer_t* t) {
          auto* self = static_cast<LoopFixture*>(t->data);
          self->watchdog_fired_ = true;
          uv_stop(&self->loop_);
        },
        kWatchdogMs, 0);
    uv_unref(reinterpret_cast<uv_handle_t*>(&watchdog_));
  }
  LoopFixture(const LoopFixture&) = delete;
  LoopFixture& operator=(const LoopFixture&) = delete;
  ~LoopFixture() {
    if (!finished_) finish();
  }

  uv_loop_t* loop() { return &loop_; }
  LoopContext& context() { return *context_; }
  bool watchdog_fired() const { return watchdog_fired_; }

  // Runs the loop until nothing keeps it alive (or the watchdog fires).
  void run() { uv_run(&loop_, UV_RUN_DEFAULT); }

  // Runs the loop until `done()` holds; false if the loop ran dry or timed out first.
  bool run_until(const std::function<bool()>& done) {
    while (!done() && !watchdog_fired_) {
      if (uv_run(&loop_, UV_RUN_ONCE) == 0 && !done()) return false;
    }
    return done();
  }

  // Calls `fn` from the loop after `ms` milliseconds (the timer keeps the loop alive).
  void after(std::uint64_t ms, std::function<void()> fn) {
    auto* timer = new OneShot{{}, std::move(fn)};
    uv_timer_init(&loop_, &timer->handle);
    timer->handle.data = timer;
    uv_timer_start(
        &timer->handle,
        [](uv_timer_t* t) {
          auto* self = static_cast<OneShot*>(t->data);
          self->fn();
          uv_close(reinterpret_cast<uv_handle_t*>(&self->handle),
                   [](uv_handle_t* h) { delete static_cast<OneShot*>(h->data); });
        },
        ms, 0);
  }

  // MAKE_VALGRIND_HAPPY: stop the fixture's own handles, close anything a test left
  // open (counted as a failure), run the loop dry and close it.
  void finish() {
    finished_ = true;
    context_->stop_ticking();
    uv_close(reinterpret_cast<uv_handle_t*>(&watchdog_), nullptr);
    int leftovers = 0;
    uv_walk(
        &loop_,
        [](uv_handle_t* h, void* arg) {
          if (uv_is_closing(h) == 0) {
            ++*static_cast<int*>(arg);
            uv_close(h, nullptr);
          }
        },
        &leftovers);
    uv_run(&loop_, UV_RUN_DEFAULT);
    context_.reset();
    CHECK_MESSAGE(!watchdog_fired_, "the test hit the watchdog");
    CHECK_MESSAGE(leftovers == 0, "handles left open by the test");
    CHECK(TcpStream::live_count() == streams_before_);
    CHECK(uv_loop_close(&loop_) == 0);
  }

 private:
  struct OneShot {
    uv_timer_t handle;
    std::function<void()> fn;
  };

  uv_loop_t loop_{};
  std::optional<LoopContext> context_;
  uv_timer_t watchdog_{};
  bool watchdog_fired_ = false;
  bool finished_ = false;
  std::size_t streams_before_;
};

struct Recorder final : StreamHandler {
  std::string received;
  int read_ends = 0;
  int read_end_status = 0;
  int drained = 0;
  int write_errors = 0;
  int closed = 0;
  std::function<void(TcpStream&, std::string_view)> on_bytes;
  std::function<void(TcpStream&, int)> on_end;
  std::function<void(TcpStream&)> on_drain;

  void on_read(TcpStream& stream, std::string_view bytes) override {
    received.append(bytes);
    if (on_bytes) on_bytes(stream, bytes);
  }
  void on_read_end(TcpStream& stream, int status) override {
    ++read_ends;
    read_end_status = status;
    if (on_end) on_end(stream, status);
  }
  void on_drained(TcpStream& stream) override {
    ++drained;
    if (on_drain) on_drain(stream);
  }
  void on_write_error(TcpStream& /*stream*/, int /*status*/) override { ++write_errors; }
  void on_closed(TcpStream& /*stream*/) override { ++closed; }
};

// Listens on 127.0.0.1:0 and hands every accepted stream to `handler`, reading.
class LocalServer {
 public:
  LocalServer(LoopFixture& fixture, StreamHandler& handler)
      : listener_(fixture.loop(), [this, &handler](TcpStream& stream) {
          stream.set_handler(&handler);
          stream.start_reading();
          last_accepted = &stream;
          ++accepted;
        }) {
    std::string error;
    REQUIRE(listener_.listen("127.0.0.1:0", 128, error) == 0);
    port = static_cast<std::uint16_t>(listener_.bound_port());
  }

  Listener& listener() { return listener_; }

  std::uint16_t port = 0;
  int accepted = 0;
  TcpStream* last_accepted = nullptr;

 private:
  Listener listener_;
};

}  // namespace sb::net::test
