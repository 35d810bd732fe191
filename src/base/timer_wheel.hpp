// TimerWheel: one hashed timing wheel per event loop, with intrusive nodes.
//
// A million sessions each need a "wait" deadline for their held request and an
// inactivity deadline. A uv_timer_t per session per purpose costs ~150 bytes and a
// heap operation per re-arm; a TimerNode embedded in its owner costs 24 bytes and
// arming/disarming is O(1) list surgery. One uv_timer_t (LoopContext's ticker in
// net/loop_context.hpp) advances the wheel; tests advance it by hand, so nothing
// here touches libuv.
//
// Resolution is one tick (kTickMs). A node never fires early (deadlines beyond 24
// days are brought in to 24 days); it fires within one tick after its deadline. Nodes whose deadline lies more than one revolution away
// simply stay in their slot and are skipped until their time comes.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

namespace sb::base {

class TimerWheel;

// The links of a circular doubly-linked list; each wheel slot is a sentinel link.
struct TimerLink {
  TimerLink* timer_prev = nullptr;
  TimerLink* timer_next = nullptr;
};

// The deadline an object owns. Derive the owner from TimerNode (privately is
// enough): its callback is called with the node when it expires and gets the
// owner back with a static_cast, so the node needs no pointer to it.
// OwnedTimerNode (below) is for an owner that cannot derive from it.
//
// 24 bytes: the two links, the low 32 bits of the deadline and a one-byte index of
// the callback. A session has three nodes (its own, its upstream link's and its
// connection's), so the callback pointer, the high half of the deadline and an
// owner pointer would cost 48 bytes a session. Callbacks are a handful of
// functions, registered on first use in a small table (TimerNode::callback_index);
// the deadline is compared modulo 2^32 ms against the wheel's clock, which is exact
// while deadlines lie within 24 days of now (the longest here are maxpause and
// inactivity: minutes).
struct TimerNode : TimerLink {
  using Callback = void (*)(TimerNode& node);

  TimerNode() = default;
  explicit TimerNode(Callback cb) : callback_(callback_index(cb)) {}
  TimerNode(const TimerNode&) = delete;
  TimerNode& operator=(const TimerNode&) = delete;
  ~TimerNode();  // disarms

  // Armed nodes are linked into a slot (or a slot being run); disarmed ones not.
  bool armed() const { return timer_prev != nullptr; }
  // Calls the callback, if there is one.
  void fire();

 protected:
  // For an owner derived from its node: the node, to arm or disarm.
  TimerNode& timer() { return *this; }

 private:
  friend class TimerWheel;
  // The callback's slot in the process-wide table (0 = none); aborts past 255.
  static std::uint8_t callback_index(Callback cb);

  // Bookkeeping owned by the wheel (the links are in TimerLink). A node does not
  // point back at its wheel: unlinking needs only the links.
  std::uint32_t deadline_low_ = 0;
  std::uint8_t callback_ = 0;
};
static_assert(sizeof(void*) != 8 || sizeof(TimerNode) == 24,
              "a node is 24 bytes on 64-bit targets");

// A node that points at its owner, for owners that are not a TimerNode themselves
// (short-lived or rare objects, tests): 8 bytes more. Its callback gets the owner
// with owner_of().
struct OwnedTimerNode : TimerNode {
  OwnedTimerNode(Callback cb, void* owner_ptr) : TimerNode(cb), owner(owner_ptr) {}
  // The owner of a node that is an OwnedTimerNode.
  static void* owner_of(TimerNode& node) { return static_cast<OwnedTimerNode&>(node).owner; }

  void* owner;
};

class TimerWheel {
 public:
  static constexpr std::uint64_t kTickMs = 50;
  static constexpr std::size_t kSlots = 4096;  // one revolution = 204.8 s

  explicit TimerWheel(std::uint64_t now_ms);
  TimerWheel(const TimerWheel&) = delete;
  TimerWheel& operator=(const TimerWheel&) = delete;
  ~TimerWheel();

  // (Re)arms `node` to fire `delay_ms` from the wheel's current time.
  void arm(TimerNode& node, std::uint64_t delay_ms);
  void arm_at(TimerNode& node, std::uint64_t deadline_ms);
  static void disarm(TimerNode& node);

  // Fires every node whose deadline is <= now_ms. Callbacks may arm or disarm any
  // node, including the one firing.
  void advance(std::uint64_t now_ms);

  std::uint64_t now_ms() const { return now_ms_; }
  // How long until an armed `node` fires (0 if due, or not armed): its owner can
  // tell how much of a delay has passed without keeping a clock of its own.
  std::uint64_t remaining_ms(const TimerNode& node) const;
  // Walks every slot: for tests, not for hot paths.
  std::size_t armed_count() const;
  // True if no node is armed. Stops at the first armed node, so it is cheap on a
  // busy wheel and walks the 4096 slots only when the wheel is (nearly) empty.
  bool empty() const;

  // Called when a node is about to be armed, before its deadline is computed: if
  // whoever advances the wheel (LoopContext) stopped while it was empty, it brings
  // the wheel's clock up to date and starts advancing it again. Null = nobody.
  using WakeFn = void (*)(void* context);
  void set_wake(WakeFn wake, void* context) {
    wake_ = wake;
    wake_context_ = context;
  }

 private:
  static void insert_after(TimerLink& anchor, TimerLink& link);
  static void unlink(TimerNode& node);
  void link(TimerNode& node);
  void run_slot(std::size_t index);
  // Tells the waker a node is being armed. Nodes do not point back at the wheel,
  // so it keeps no count of armed nodes; the waker (LoopContext) knows whether it
  // sleeps, which is the same as the wheel being empty, and returns at once if not.
  void notify_arming() {
    if (wake_ != nullptr) wake_(wake_context_);
  }

  std::vector<TimerLink> slots_;  // sentinels of circular lists
  std::uint64_t now_ms_;
  std::uint64_t next_tick_;  // the next tick number to process
  WakeFn wake_ = nullptr;
  void* wake_context_ = nullptr;
};

}  // namespace sb::base
