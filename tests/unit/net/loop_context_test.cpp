// LoopContext: the loop finds its context, every stream shares one read buffer, and
// the unref'd ticker drives the TimerWheel without keeping the loop alive.
#include <doctest/doctest.h>

#include "base/timer_wheel.hpp"
#include "net/loop_fixture.hpp"

using sb::base::OwnedTimerNode;
using sb::base::TimerNode;
using sb::net::context_of;
using sb::net::LoopContext;
using sb::net::test::LoopFixture;

TEST_CASE_FIXTURE(LoopFixture, "the loop knows its context and hands out one shared read buffer") {
  CHECK(&context_of(loop()) == &context());
  CHECK(context().loop() == loop());

  uv_tcp_t a{};
  uv_tcp_t b{};
  uv_tcp_init(loop(), &a);
  uv_tcp_init(loop(), &b);
  uv_buf_t first{};
  uv_buf_t second{};
  LoopContext::alloc_shared(reinterpret_cast<uv_handle_t*>(&a), 100, &first);
  LoopContext::alloc_shared(reinterpret_cast<uv_handle_t*>(&b), 100000, &second);
  CHECK(first.base == second.base);
  CHECK(first.len == LoopContext::kReadBufferBytes);
  CHECK(second.len == LoopContext::kReadBufferBytes);
  uv_close(reinterpret_cast<uv_handle_t*>(&a), nullptr);
  uv_close(reinterpret_cast<uv_handle_t*>(&b), nullptr);
  finish();
}

TEST_CASE_FIXTURE(LoopFixture, "the ticker fires wheel timers but does not keep the loop alive") {
  // With nothing but the ticker, the loop has no work and returns at once.
  CHECK(uv_run(loop(), UV_RUN_DEFAULT) == 0);

  struct Probe {
    int fired = 0;
    std::uint64_t at = 0;
    uv_loop_t* loop = nullptr;
    OwnedTimerNode node{[](TimerNode& n) {
                          auto* self = static_cast<Probe*>(OwnedTimerNode::owner_of(n));
                          ++self->fired;
                          self->at = uv_now(self->loop);
                        },
                        this};
  } probe;
  probe.loop = loop();
  uv_update_time(loop());
  const std::uint64_t start = uv_now(loop());
  context().timers().arm_at(probe.node, start + 120);
  // Something real to wait for, so the loop keeps running while the wheel turns.
  after(300, [] {});
  run();
  CHECK(probe.fired == 1);
  CHECK(probe.at >= start + 120);
  CHECK(probe.at <= start + 120 + 2 * sb::base::TimerWheel::kTickMs);
  finish();
}

TEST_CASE_FIXTURE(LoopFixture,
                  "stop_ticking closes the ticker and start_ticking may follow at once") {
  context().stop_ticking();
  context().start_ticking();  // the old handle is still closing: restarts after it
  int fired = 0;
  OwnedTimerNode node{[](TimerNode& n) { ++*static_cast<int*>(OwnedTimerNode::owner_of(n)); },
                      &fired};
  uv_update_time(loop());
  context().timers().arm_at(node, uv_now(loop()) + 10);
  after(200, [] {});
  run();
  CHECK(fired == 1);
  finish();
}

// An idle worker must not wake up 20 times a second for an empty wheel (a hundred
// workers did: 7.8% of a core, bench/handover.js). The ticker sleeps while nothing
// is armed, and a node armed after a long sleep still counts from now.
TEST_CASE_FIXTURE(LoopFixture, "the ticker sleeps while the wheel is empty and wakes on arm") {
  struct Probe {
    int fired = 0;
    std::uint64_t at = 0;
    uv_loop_t* loop = nullptr;
  } probe;
  probe.loop = loop();
  OwnedTimerNode node(
      [](TimerNode& n) {
        auto* p = static_cast<Probe*>(OwnedTimerNode::owner_of(n));
        ++p->fired;
        p->at = uv_now(p->loop);
      },
      &probe);
  CHECK(context().ticking());  // the fixture started it
  // Keep the loop running for a while with nothing armed: the first tick sleeps.
  bool slept = false;
  after(300, [&] { slept = !context().ticking(); });
  CHECK(run_until([&] { return slept; }));
  CHECK(context().timers().armed_count() == 0);

  // Armed after 300 ms of sleep: fires 100 ms from now, not at once.
  uv_update_time(loop());
  const std::uint64_t armed_at = uv_now(loop());
  context().timers().arm(node, 100);
  CHECK(context().ticking());
  bool done = false;
  after(400, [&] { done = true; });
  CHECK(run_until([&] { return done; }));
  CHECK(probe.fired == 1);
  CHECK(probe.at >= armed_at + 100);
  CHECK(probe.at <= armed_at + 100 + 2 * sb::base::TimerWheel::kTickMs);
  CHECK_FALSE(context().ticking());  // empty again: asleep
  finish();
}
