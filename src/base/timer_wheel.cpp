#include "base/timer_wheel.hpp"

#include <algorithm>
#include <array>
#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <mutex>

namespace sb::base {

namespace {

// The callbacks of every TimerNode in the process, found by a linear search at
// node construction (a few entries: sessions, links, connections, tests' lambdas).
// Entries are only ever added, under the mutex, and read without it.
constexpr std::size_t kMaxCallbacks = 256;
std::array<std::atomic<TimerNode::Callback>, kMaxCallbacks> g_callbacks{};
std::atomic<std::size_t> g_callback_count{1};  // slot 0 means "no callback"
std::mutex g_callback_mutex;

std::uint8_t find_callback(TimerNode::Callback cb, std::size_t count) {
  for (std::size_t i = 1; i < count; ++i) {
    if (g_callbacks[i].load(std::memory_order_acquire) == cb) return static_cast<std::uint8_t>(i);
  }
  return 0;
}

// Signed distance from `b` to `a` on the 32-bit ms clock.
std::int32_t ms_after(std::uint32_t a, std::uint32_t b) { return static_cast<std::int32_t>(a - b); }

}  // namespace

std::uint8_t TimerNode::callback_index(Callback cb) {
  if (cb == nullptr) return 0;
  if (std::uint8_t found = find_callback(cb, g_callback_count.load(std::memory_order_acquire)))
    return found;
  std::lock_guard<std::mutex> lock(g_callback_mutex);
  const std::size_t count = g_callback_count.load(std::memory_order_relaxed);
  if (std::uint8_t found = find_callback(cb, count)) return found;
  if (count >= kMaxCallbacks) {
    std::fprintf(stderr, "TimerNode: more than %zu distinct callbacks\n", kMaxCallbacks - 1);
    std::abort();
  }
  g_callbacks[count].store(cb, std::memory_order_release);
  g_callback_count.store(count + 1, std::memory_order_release);
  return static_cast<std::uint8_t>(count);
}

void TimerNode::fire() {
  if (callback_ != 0) g_callbacks[callback_].load(std::memory_order_acquire)(*this);
}

TimerNode::~TimerNode() { TimerWheel::disarm(*this); }

TimerWheel::TimerWheel(std::uint64_t now_ms)
    : slots_(kSlots), now_ms_(now_ms), next_tick_(now_ms / kTickMs) {
  for (auto& sentinel : slots_) sentinel.timer_prev = sentinel.timer_next = &sentinel;
}

TimerWheel::~TimerWheel() {
  // Orphan whatever is still armed so that the nodes' destructors do not touch us.
  for (auto& sentinel : slots_) {
    while (sentinel.timer_next != &sentinel) unlink(*static_cast<TimerNode*>(sentinel.timer_next));
  }
}

void TimerWheel::arm(TimerNode& node, std::uint64_t delay_ms) {
  disarm(node);
  notify_arming();  // may bring now_ms_ up to date first
  arm_at(node, now_ms_ + delay_ms);
}

std::uint64_t TimerWheel::remaining_ms(const TimerNode& node) const {
  if (!node.armed()) return 0;
  return static_cast<std::uint64_t>(
      std::max(0, ms_after(node.deadline_low_, static_cast<std::uint32_t>(now_ms_))));
}

void TimerWheel::arm_at(TimerNode& node, std::uint64_t deadline_ms) {
  disarm(node);
  notify_arming();
  // Kept within [now, now + 2^31) ms so that its low 32 bits compare correctly: a
  // deadline already past is due now, one beyond 24 days is brought in to 24 days.
  constexpr std::uint64_t kMaxAheadMs = (std::uint64_t{1} << 31) - 1;
  if (deadline_ms < now_ms_) deadline_ms = now_ms_;
  if (deadline_ms - now_ms_ > kMaxAheadMs) deadline_ms = now_ms_ + kMaxAheadMs;
  node.deadline_low_ = static_cast<std::uint32_t>(deadline_ms);
  link(node);
}

void TimerWheel::disarm(TimerNode& node) {
  if (node.armed()) unlink(node);
}

std::size_t TimerWheel::armed_count() const {
  std::size_t count = 0;
  for (const auto& sentinel : slots_) {
    for (const TimerLink* link = sentinel.timer_next; link != &sentinel; link = link->timer_next)
      ++count;
  }
  return count;
}

bool TimerWheel::empty() const {
  for (const auto& sentinel : slots_) {
    if (sentinel.timer_next != &sentinel) return false;
  }
  return true;
}

void TimerWheel::insert_after(TimerLink& anchor, TimerLink& link) {
  link.timer_prev = &anchor;
  link.timer_next = anchor.timer_next;
  anchor.timer_next->timer_prev = &link;
  anchor.timer_next = &link;
}

void TimerWheel::link(TimerNode& node) {
  // A deadline already due goes to the next slot to be processed, never behind it.
  // arm_at keeps the deadline at or after now_ms_ (see there).
  const std::uint64_t deadline_ms =
      now_ms_ + static_cast<std::uint32_t>(
                    std::max(0, ms_after(node.deadline_low_, static_cast<std::uint32_t>(now_ms_))));
  std::uint64_t tick = (deadline_ms + kTickMs - 1) / kTickMs;
  if (tick < next_tick_) tick = next_tick_;
  insert_after(slots_[tick % kSlots], node);
}

void TimerWheel::unlink(TimerNode& node) {
  node.timer_prev->timer_next = node.timer_next;
  node.timer_next->timer_prev = node.timer_prev;
  node.timer_prev = node.timer_next = nullptr;
}

void TimerWheel::advance(std::uint64_t now_ms) {
  if (now_ms < now_ms_) return;
  now_ms_ = now_ms;
  const std::uint64_t last_tick = now_ms / kTickMs;
  // Never walk more than one revolution: after that every slot has been visited.
  if (last_tick >= next_tick_ + kSlots) next_tick_ = last_tick - kSlots + 1;
  while (next_tick_ <= last_tick) {
    const std::size_t index = next_tick_ % kSlots;
    ++next_tick_;
    run_slot(index);
  }
}

void TimerWheel::run_slot(std::size_t index) {
  // Move the slot's nodes to a private list first. Nodes stay armed while they wait
  // there, so a callback that disarms or destroys one of them unlinks it from this
  // private list; nodes a callback re-arms go to their new slot.
  TimerLink pending;
  TimerLink& sentinel = slots_[index];
  if (sentinel.timer_next == &sentinel) return;
  pending.timer_next = sentinel.timer_next;
  pending.timer_prev = sentinel.timer_prev;
  pending.timer_next->timer_prev = &pending;
  pending.timer_prev->timer_next = &pending;
  sentinel.timer_prev = sentinel.timer_next = &sentinel;

  while (pending.timer_next != &pending) {
    auto& node = *static_cast<TimerNode*>(pending.timer_next);
    if (ms_after(node.deadline_low_, static_cast<std::uint32_t>(now_ms_)) <= 0) {
      unlink(node);
      node.fire();
    } else {
      // Not due in this revolution: back to its slot.
      node.timer_prev->timer_next = node.timer_next;
      node.timer_next->timer_prev = node.timer_prev;
      insert_after(sentinel, node);
    }
  }
}

}  // namespace sb::base
