// HeapTrimmer: gives the heap's free pages back to the kernel once enough of it
// has been freed.
//
// Sessions leave free heap behind them: a burst of logins interleaves each
// creation's temporaries (request bodies, parse trees, responses) with the objects
// that stay, and the first cached bodies (the login's last answers) are freed a
// wait period later, when the idle polls replace them. The holes are whole pages
// the process keeps: glibc gives them back only on malloc_trim(0). With 20,000
// idle sessions in three workers that was about 160 bytes of RSS per session
// (docs/benchmarks.md). So every kIntervalMs the worker reads the heap's free
// bytes (mallinfo2) and trims when they have grown by kMinGrowthBytes since the
// lowest point after the last trim: after a burst of logins or of ends, and after
// the cached bodies go, but not again and again over free bytes that trimming
// cannot release (pieces of pages between live objects).
#pragma once

#include <uv.h>

#include <cstddef>
#include <cstdint>

namespace sb::app {

class HeapTrimmer {
 public:
  static constexpr std::uint64_t kIntervalMs = 10000;
  static constexpr std::size_t kMinGrowthBytes = 1 << 20;

  explicit HeapTrimmer(uv_loop_t* loop);
  HeapTrimmer(const HeapTrimmer&) = delete;
  HeapTrimmer& operator=(const HeapTrimmer&) = delete;
  // Closes the timer if the loop's own clean-up has not (the owner runs the loop
  // afterwards, as for every handle of a worker).
  ~HeapTrimmer();

  // One interval's decision, separate from the timer for tests: true = trim now.
  bool should_trim(std::size_t free_bytes);
  std::uint64_t trims() const { return trims_; }

 private:
  static void on_timer(uv_timer_t* timer);

  uv_timer_t timer_{};
  std::size_t low_ = 0;  // the fewest free bytes seen since the last trim
  std::uint64_t trims_ = 0;
};

}  // namespace sb::app
