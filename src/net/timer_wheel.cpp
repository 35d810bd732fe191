#include "net/timer_wheel.hpp"

namespace sb::net {

TimerNode::~TimerNode() { TimerWheel::disarm(*this); }

TimerWheel::TimerWheel(std::uint64_t now_ms)
    : slots_(kSlots), now_ms_(now_ms), next_tick_(now_ms / kTickMs) {
  for (auto& sentinel : slots_) sentinel.prev = sentinel.next = &sentinel;
}

TimerWheel::~TimerWheel() {
  // Orphan whatever is still armed so that the nodes' destructors do not touch us.
  for (auto& sentinel : slots_) {
    while (sentinel.next != &sentinel) unlink(*static_cast<TimerNode*>(sentinel.next));
  }
}

void TimerWheel::arm(TimerNode& node, std::uint64_t delay_ms) {
  disarm(node);
  notify_arming();  // may bring now_ms_ up to date first
  arm_at(node, now_ms_ + delay_ms);
}

void TimerWheel::arm_at(TimerNode& node, std::uint64_t deadline_ms) {
  disarm(node);
  notify_arming();
  node.deadline_ms = deadline_ms;
  link(node);
}

void TimerWheel::disarm(TimerNode& node) {
  if (node.armed()) unlink(node);
}

std::size_t TimerWheel::armed_count() const {
  std::size_t count = 0;
  for (const auto& sentinel : slots_) {
    for (const TimerLink* link = sentinel.next; link != &sentinel; link = link->next) ++count;
  }
  return count;
}

bool TimerWheel::empty() const {
  for (const auto& sentinel : slots_) {
    if (sentinel.next != &sentinel) return false;
  }
  return true;
}

void TimerWheel::insert_after(TimerLink& anchor, TimerLink& link) {
  link.prev = &anchor;
  link.next = anchor.next;
  anchor.next->prev = &link;
  anchor.next = &link;
}

void TimerWheel::link(TimerNode& node) {
  // A deadline already due goes to the next slot to be processed, never behind it.
  std::uint64_t tick = (node.deadline_ms + kTickMs - 1) / kTickMs;
  if (tick < next_tick_) tick = next_tick_;
  insert_after(slots_[tick % kSlots], node);
}

void TimerWheel::unlink(TimerNode& node) {
  node.prev->next = node.next;
  node.next->prev = node.prev;
  node.prev = node.next = nullptr;
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
  if (sentinel.next == &sentinel) return;
  pending.next = sentinel.next;
  pending.prev = sentinel.prev;
  pending.next->prev = &pending;
  pending.prev->next = &pending;
  sentinel.prev = sentinel.next = &sentinel;

  while (pending.next != &pending) {
    auto& node = *static_cast<TimerNode*>(pending.next);
    if (node.deadline_ms <= now_ms_) {
      unlink(node);
      if (node.fire != nullptr) node.fire(node);
    } else {
      // Not due in this revolution: back to its slot.
      node.prev->next = node.next;
      node.next->prev = node.prev;
      insert_after(sentinel, node);
    }
  }
}

}  // namespace sb::net
