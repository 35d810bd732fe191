// LocalShared: one value, counted holders, freed with the last one; 8 bytes.
#include <doctest/doctest.h>

#include <string>
#include <utility>

#include "base/local_shared.hpp"

namespace {
struct Counted {
  explicit Counted(int* counter) : live(counter) { ++*live; }
  Counted(Counted&& other) noexcept : live(std::exchange(other.live, nullptr)) {}
  ~Counted() {
    if (live != nullptr) --*live;
  }
  int* live;
};
}  // namespace

using sb::base::LocalShared;

static_assert(sizeof(LocalShared<std::string>) == sizeof(void*));

TEST_CASE("net: LocalShared frees its value with the last holder") {
  int live = 0;
  {
    auto first = LocalShared<Counted>::make(&live);
    CHECK(live == 1);
    CHECK(first.use_count() == 1);
    LocalShared<Counted> second = first;
    LocalShared<Counted> third;
    third = second;
    CHECK(first.use_count() == 3);
    CHECK(first.get() == third.get());
    LocalShared<Counted> moved = std::move(second);
    CHECK(second == nullptr);
    CHECK(moved.use_count() == 3);
    first.reset();
    third = nullptr;
    CHECK(live == 1);
    CHECK(moved.use_count() == 1);
  }
  CHECK(live == 0);
}

TEST_CASE("net: LocalShared null, self-assignment and reassignment") {
  LocalShared<std::string> none;
  CHECK(!none);
  CHECK(none.get() == nullptr);
  CHECK(none.use_count() == 0);
  auto text = LocalShared<std::string>::make("1.11");
  LocalShared<std::string>& same = text;
  text = same;
  CHECK(*text == "1.11");
  CHECK(text.use_count() == 1);
  text = LocalShared<std::string>::make("1.6");
  CHECK(text->size() == 3);
}
