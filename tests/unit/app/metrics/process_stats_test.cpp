// The /proc readings behind the process_* metrics (process_stats.hpp).
#include "app/printing.hpp"

#include <unistd.h>

#include "app/metrics/process_stats.hpp"

using namespace sb::app;

TEST_CASE("count_open_fds sees a descriptor come and go") {
  const std::uint64_t before = count_open_fds();
  CHECK(before >= 3);
  const int fd = ::dup(0);
  REQUIRE(fd >= 0);
  CHECK(count_open_fds() == before + 1);
  ::close(fd);
  CHECK(count_open_fds() == before);
}

TEST_CASE("sample_process reads this process and nothing for a pid that is gone") {
  const auto self = sample_process(static_cast<int>(::getpid()));
  REQUIRE(self.has_value());
  CHECK(self->resident_bytes > 0);
  CHECK(self->start_time_seconds > 1.0e9);  // after 2001: an epoch time, not ticks
  CHECK_FALSE(sample_process(0x3fffffff).has_value());
  CHECK(max_fds() >= 3);
}
