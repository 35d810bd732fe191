// ObjectPool: per-type slabs for the objects every session keeps for its whole life
// (bosh::Session, xmpp::UpstreamLink, net::TcpStream, app::HttpSocket, the held
// request's http::Connection::Slot).
//
// Why: a session is born in a burst of short-lived allocations (the parsed creation
// body, the creation response, stream header strings, the features) interleaved
// with the few objects that stay. When the temporaries are freed they leave holes
// between the long-lived objects that nothing of their size fills again, so an idle
// process's RSS was about twice its live heap in bench_engine_sessions. Objects
// taken from a slab of their own type sit next to each other instead, never between
// temporaries, and cost no malloc header or size-class rounding (8-16 bytes each).
//
// How: a class derives from `Pooled<Self>`, which gives it class-specific operator
// new/delete. Each size has one free list per thread, fed by 64 KiB chunks taken
// from ::operator new and carved one slot at a time. Freed objects go back on the list (LIFO) and are reused by
// the next object of that type; chunks are never returned, as glibc keeps its heap
// too, so the peak is what a box must be sized for either way. A request for another
// size (a derived class) falls through to ::operator new.
//
// Under AddressSanitizer the pool is off (plain ::operator new), so a use after
// free of a pooled object is still caught.
#pragma once

#include <cstddef>
#include <new>

namespace sb::base {

#if defined(__SANITIZE_ADDRESS__)
#define SB_OBJECT_POOL_ENABLED 0
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define SB_OBJECT_POOL_ENABLED 0
#endif
#endif
#ifndef SB_OBJECT_POOL_ENABLED
#define SB_OBJECT_POOL_ENABLED 1
#endif

// The free list of one object size and alignment, one per thread.
template <std::size_t Size, std::size_t Align>
class ObjectPool {
 public:
  static constexpr std::size_t kChunkBytes = 64 * 1024;
  static constexpr std::size_t kSlotBytes = (Size + Align - 1) / Align * Align;
  static_assert(kSlotBytes >= sizeof(void*), "a free slot holds the next-free link");
  static_assert(kSlotBytes <= kChunkBytes / 8, "pool only small objects");
  static_assert(Align <= alignof(std::max_align_t), "chunks are aligned for max_align_t");

  static void* allocate() {
    State& s = state();
    ++s.in_use;
    if (s.free != nullptr) {
      Free* slot = s.free;
      s.free = slot->next;
      return slot;
    }
    if (s.carve == s.carve_end) {
      // Chunks stay reachable through live objects and the free list; they are
      // released only at exit. Slots are carved one at a time, so the pages of a
      // fresh chunk are touched (become resident) only as objects fill them.
      s.carve = static_cast<char*>(::operator new(kChunkBytes));
      s.carve_end = s.carve + kChunkBytes / kSlotBytes * kSlotBytes;
      ++s.chunks;
    }
    void* slot = s.carve;
    s.carve += kSlotBytes;
    return slot;
  }

  static void deallocate(void* p) {
    State& s = state();
    auto* slot = static_cast<Free*>(p);
    slot->next = s.free;
    s.free = slot;
    --s.in_use;
  }

  // Objects handed out and not yet returned, and bytes taken from ::operator new
  // (for benchmarks).
  static std::size_t in_use() { return state().in_use; }
  static std::size_t reserved_bytes() { return state().chunks * kChunkBytes; }

 private:
  struct Free {
    Free* next;
  };
  struct State {
    Free* free = nullptr;   // returned slots, most recent first
    char* carve = nullptr;  // the unused rest of the newest chunk
    char* carve_end = nullptr;
    std::size_t in_use = 0;
    std::size_t chunks = 0;
  };
  static State& state() {
    static thread_local State s;
    return s;
  }
};

// Derive from Pooled<T> to allocate T from its pool.
template <typename T>
struct Pooled {
  static void* operator new(std::size_t size) {
#if SB_OBJECT_POOL_ENABLED
    if (size == sizeof(T)) return PoolOf<T>::allocate();
#endif
    return ::operator new(size);
  }
  static void operator delete(void* p, [[maybe_unused]] std::size_t size) {
#if SB_OBJECT_POOL_ENABLED
    if (size == sizeof(T)) {
      PoolOf<T>::deallocate(p);
      return;
    }
#endif
    // Unsized: clang before 19 declares the sized global delete only with
    // -fsized-deallocation (the fuzz build is clang 14).
    ::operator delete(p);
  }
  // (T is complete only inside member functions, hence the alias template.)
  template <typename U>
  using PoolOf = ObjectPool<sizeof(U), alignof(U) < alignof(void*) ? alignof(void*) : alignof(U)>;
};

}  // namespace sb::base
