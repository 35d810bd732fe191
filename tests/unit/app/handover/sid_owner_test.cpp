// Reading the owning worker from a sid, and agreeing with the prefix the engine
// settings give each worker's sids.
#include <doctest/doctest.h>

#include "app/handover/sid_owner.hpp"
#include "app/process/engine_settings.hpp"

using sb::app::sid_owner_worker;
using sb::app::worker_sid_prefix;

TEST_CASE("the worker named by a sid's prefix") {
  CHECK(sid_owner_worker("w0.Xr5abc", "") == 0u);
  CHECK(sid_owner_worker("w17.Xr5abc", "") == 17u);
  CHECK(sid_owner_worker("w1023.Xr5abc", "") == 1023u);
  CHECK(sid_owner_worker("n1.w3.Xr5abc", "n1") == 3u);
}

TEST_CASE("sids without a worker prefix for this node name nobody") {
  for (const char* sid : {"", "w", "w.", "w3", "w3x.", "x3.abc", "W3.abc", "w12345.abc", "w01.abc",
                          "Xr5abcdefghijklmnopqrs", "n2.w3.abc"}) {
    CAPTURE(sid);
    CHECK_FALSE(sid_owner_worker(sid, "").has_value());
  }
  CHECK_FALSE(sid_owner_worker("n2.w3.abc", "n1").has_value());
  CHECK_FALSE(sid_owner_worker("w3.abc", "n1").has_value());
  CHECK_FALSE(sid_owner_worker("n1w3.abc", "n1").has_value());
}

TEST_CASE("every worker's sids lead back to it") {
  for (const char* node : {"", "node7"}) {
    sb::app::Config config;
    config.workers = 4;
    config.node_id = node;
    for (std::uint32_t index = 0; index < 4; ++index) {
      const std::string prefix =
          sb::app::engine_settings(config, static_cast<int>(index)).sid_prefix;
      CHECK(prefix == worker_sid_prefix(node, index));
      CHECK(sid_owner_worker(prefix + "Xr5abcdefghijklmnopqrs", node) == index);
    }
  }
}
