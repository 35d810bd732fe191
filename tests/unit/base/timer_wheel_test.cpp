#include <doctest/doctest.h>

#include <memory>
#include <utility>
#include <vector>

#include "base/timer_wheel.hpp"

using sb::base::OwnedTimerNode;
using sb::base::TimerNode;
using sb::base::TimerWheel;

namespace {
struct Counter {
  int fired = 0;
  std::uint64_t at = 0;
  TimerWheel* wheel = nullptr;
  OwnedTimerNode node{[](TimerNode& n) {
                        auto* self = static_cast<Counter*>(OwnedTimerNode::owner_of(n));
                        ++self->fired;
                        self->at = self->wheel->now_ms();
                      },
                      this};
};
}  // namespace

TEST_CASE("a node fires once, never early and within one tick of its deadline") {
  TimerWheel wheel(1000);
  Counter c;
  c.wheel = &wheel;
  wheel.arm(c.node, 120);
  wheel.advance(1119);
  CHECK(c.fired == 0);
  wheel.advance(1120 + TimerWheel::kTickMs);
  CHECK(c.fired == 1);
  CHECK(c.at >= 1120);
  wheel.advance(5000);
  CHECK(c.fired == 1);
  CHECK(wheel.armed_count() == 0);
}

TEST_CASE("deadlines beyond one revolution wait for their turn") {
  TimerWheel wheel(0);
  Counter c;
  c.wheel = &wheel;
  const std::uint64_t far = TimerWheel::kTickMs * TimerWheel::kSlots * 2 + 70;
  wheel.arm(c.node, far);
  for (std::uint64_t t = 0; t < far; t += 1000) wheel.advance(t);
  CHECK(c.fired == 0);
  wheel.advance(far + TimerWheel::kTickMs);
  CHECK(c.fired == 1);
}

TEST_CASE("a big jump in time fires everything that is due") {
  TimerWheel wheel(0);
  std::vector<std::unique_ptr<Counter>> counters;
  for (int i = 0; i < 100; ++i) {
    counters.push_back(std::make_unique<Counter>());
    counters.back()->wheel = &wheel;
    wheel.arm(counters.back()->node, static_cast<std::uint64_t>(i) * 7000);
  }
  wheel.advance(10'000'000);
  for (auto& c : counters) CHECK(c->fired == 1);
}

TEST_CASE("disarm, re-arm and destruction are safe, also from inside a callback") {
  TimerWheel wheel(0);
  Counter a, b;
  a.wheel = b.wheel = &wheel;
  wheel.arm(a.node, 100);
  wheel.arm(b.node, 100);
  wheel.arm(a.node, 300);  // re-arm moves it
  TimerWheel::disarm(b.node);
  wheel.advance(200);
  CHECK(a.fired == 0);
  CHECK(b.fired == 0);
  wheel.advance(400);
  CHECK(a.fired == 1);

  // A callback that destroys another node due in the same slot.
  auto victim = std::make_unique<Counter>();
  victim->wheel = &wheel;
  struct Killer {
    std::unique_ptr<Counter>* victim;
    OwnedTimerNode node{
        [](TimerNode& n) { static_cast<Killer*>(OwnedTimerNode::owner_of(n))->victim->reset(); },
        this};
  } killer{&victim};
  wheel.arm(victim->node, 1000);
  wheel.arm(killer.node, 1000);
  wheel.advance(1500);
  CHECK(victim == nullptr);
  CHECK(wheel.armed_count() == 0);

  // A callback that re-arms its own node fires again later, not in the same pass.
  struct Again {
    TimerWheel* wheel;
    int fired = 0;
    OwnedTimerNode node{[](TimerNode& n) {
                          auto* self = static_cast<Again*>(OwnedTimerNode::owner_of(n));
                          if (++self->fired < 3) self->wheel->arm(n, 0);
                        },
                        this};
  } again{&wheel};
  wheel.arm(again.node, 0);
  wheel.advance(1600);
  CHECK(again.fired >= 1);
  wheel.advance(1800);
  CHECK(again.fired == 3);
}

// Nodes keep only the low 32 bits of their deadline (32-byte nodes): these pin
// down that the wheel's clock may pass 2^32 ms (49.7 days of uptime) and that
// deadlines of zero or far ahead are handled as the header says.
TEST_CASE("the 32-bit deadline: across 2^32 ms, past deadlines, far deadlines") {
  constexpr std::uint64_t kWrap = std::uint64_t{1} << 32;
  SUBCASE("a node armed just before the 32-bit wrap fires just after it, not before") {
    TimerWheel wheel(kWrap - 1000);
    Counter c;
    c.wheel = &wheel;
    wheel.arm(c.node, 3000);
    wheel.advance(kWrap - 10);
    CHECK(c.fired == 0);
    wheel.advance(kWrap + 1999);
    CHECK(c.fired == 0);
    wheel.advance(kWrap + 2000 + TimerWheel::kTickMs);
    CHECK(c.fired == 1);
    CHECK(c.at >= kWrap + 2000);
  }
  SUBCASE("a deadline in the past (here 0, 60 days ago) is due at the next tick") {
    const std::uint64_t now = 60ull * 24 * 3600 * 1000;
    TimerWheel wheel(now);
    Counter c;
    c.wheel = &wheel;
    wheel.arm_at(c.node, 0);
    wheel.advance(now + TimerWheel::kTickMs);
    CHECK(c.fired == 1);
  }
  SUBCASE("a deadline beyond 24 days is brought in to 24 days, never lost") {
    const std::uint64_t now = 5 * kWrap + 12345;
    TimerWheel wheel(now);
    Counter c;
    c.wheel = &wheel;
    wheel.arm(c.node, 40ull * 24 * 3600 * 1000);
    const std::uint64_t limit = (std::uint64_t{1} << 31) - 1;
    for (std::uint64_t t = now; t < now + limit - 60000; t += 3'600'000) wheel.advance(t);
    CHECK(c.fired == 0);
    wheel.advance(now + limit + TimerWheel::kTickMs);
    CHECK(c.fired == 1);
  }
  SUBCASE("nodes with different callbacks each call their own") {
    TimerWheel wheel(100);
    Counter a;
    a.wheel = &wheel;
    int other = 0;
    OwnedTimerNode b{[](TimerNode& n) { *static_cast<int*>(OwnedTimerNode::owner_of(n)) += 7; },
                     &other};
    wheel.arm(a.node, 10);
    wheel.arm(b, 10);
    wheel.advance(200);
    CHECK(a.fired == 1);
    CHECK(other == 7);
  }
}

TEST_CASE(
    "net: an owner derived from TimerNode gets itself back in the callback, with no owner "
    "pointer") {
  // The way Session, UpstreamLink, Connection and WsSocket hold their deadline:
  // the node is a private base, 24 bytes, and the callback casts back.
  class Owner : private TimerNode {
   public:
    explicit Owner(TimerWheel& wheel) : TimerNode(&Owner::on_timer), wheel_(wheel) {}
    void arm(std::uint64_t delay_ms) { wheel_.arm(*this, delay_ms); }
    bool pending() const { return armed(); }
    int fired = 0;
    bool rearm_once = false;

   private:
    static void on_timer(TimerNode& node) {
      Owner& self = static_cast<Owner&>(node);
      ++self.fired;
      if (std::exchange(self.rearm_once, false)) self.arm(100);  // from its own callback
    }
    TimerWheel& wheel_;
  };
  static_assert(sizeof(void*) != 8 || sizeof(TimerNode) == 24);
  static_assert(sizeof(OwnedTimerNode) == sizeof(TimerNode) + sizeof(void*));
  TimerWheel wheel(0);
  Owner first(wheel);
  Owner second(wheel);
  first.rearm_once = true;
  first.arm(50);
  second.arm(500);
  wheel.advance(60);
  CHECK(first.fired == 1);
  CHECK(first.pending());  // re-armed
  CHECK(second.fired == 0);
  wheel.advance(600);
  CHECK(first.fired == 2);
  CHECK(second.fired == 1);
  CHECK_FALSE(first.pending());
  CHECK_FALSE(second.pending());
}
