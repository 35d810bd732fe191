// HeapTrimmer; see heap_trim.hpp.
#include "app/process/heap_trim.hpp"

#include <malloc.h>

#include <algorithm>

#include "app/log/log.hpp"

namespace sb::app {

HeapTrimmer::HeapTrimmer(uv_loop_t* loop) {
  uv_timer_init(loop, &timer_);
  timer_.data = this;
  uv_unref(reinterpret_cast<uv_handle_t*>(&timer_));  // never keeps the loop alive
  uv_timer_start(&timer_, &HeapTrimmer::on_timer, kIntervalMs, kIntervalMs);
}

HeapTrimmer::~HeapTrimmer() {
  uv_timer_stop(&timer_);
  if (!uv_is_closing(reinterpret_cast<uv_handle_t*>(&timer_))) {
    uv_close(reinterpret_cast<uv_handle_t*>(&timer_), nullptr);
  }
}

bool HeapTrimmer::should_trim(std::size_t free_bytes) {
  low_ = std::min(low_, free_bytes);
  if (free_bytes < low_ + kMinGrowthBytes) return false;
  // Trimming leaves the free bytes free (only not resident): count growth from here.
  low_ = free_bytes;
  return true;
}

void HeapTrimmer::on_timer(uv_timer_t* timer) {
  auto& self = *static_cast<HeapTrimmer*>(timer->data);
  const struct mallinfo2 info = mallinfo2();
  if (!self.should_trim(info.fordblks)) return;
  const std::uint64_t start = uv_hrtime();
  malloc_trim(0);
  ++self.trims_;
  SB_LOG_DEBUG("heap trimmed (%zu KiB free) in %.1f ms", info.fordblks / 1024,
               static_cast<double>(uv_hrtime() - start) / 1e6);
}

}  // namespace sb::app
