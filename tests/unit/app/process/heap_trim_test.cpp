// HeapTrimmer: when it gives free heap back (after enough was freed, once), and
// that its timer lives and closes with the loop.
#include <doctest/doctest.h>

#include <uv.h>

#include "app/process/heap_trim.hpp"

using sb::app::HeapTrimmer;

TEST_CASE("heap trim: when the free heap has grown by a MiB since its low point, once") {
  constexpr std::size_t MiB = 1 << 20;
  uv_loop_t loop;
  uv_loop_init(&loop);
  {
    HeapTrimmer trimmer(&loop);
    CHECK_FALSE(trimmer.should_trim(0));
    CHECK_FALSE(trimmer.should_trim(MiB / 2));  // not enough yet
    CHECK(trimmer.should_trim(3 * MiB));        // a burst ended: trim
    CHECK_FALSE(trimmer.should_trim(3 * MiB));  // the same free bytes: nothing new
    CHECK_FALSE(trimmer.should_trim(3 * MiB + MiB / 2));
    CHECK_FALSE(trimmer.should_trim(2 * MiB));  // holes reused by new objects ...
    CHECK(trimmer.should_trim(3 * MiB + 1));    // ... and freed again
    // The unref'd timer does not keep the loop alive.
    CHECK(uv_run(&loop, UV_RUN_DEFAULT) == 0);
  }
  uv_run(&loop, UV_RUN_DEFAULT);  // the timer's close
  CHECK(uv_loop_close(&loop) == 0);
}
