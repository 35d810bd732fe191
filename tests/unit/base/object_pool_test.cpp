// ObjectPool / Pooled: slots are reused, distinct while live, and objects of another
// size (a derived class) fall through to the global heap.
#include <doctest/doctest.h>

#include <set>
#include <vector>

#include "base/object_pool.hpp"

namespace {
struct Thing : sb::base::Pooled<Thing> {
  explicit Thing(int v) : value(v) {}
  virtual ~Thing() = default;
  int value;
  char pad[40] = {};
};
struct BiggerThing final : Thing {
  BiggerThing() : Thing(7) {}
  char more[64] = {};
};
using Pool = sb::base::ObjectPool<sizeof(Thing), alignof(Thing)>;
}  // namespace

TEST_CASE("pooled objects are distinct while live and their slots are reused after delete") {
  const std::size_t before = Pool::in_use();
  std::vector<Thing*> things;
  std::set<void*> addresses;
  for (int i = 0; i < 5000; ++i) {  // more than one 64 KiB chunk
    things.push_back(new Thing(i));
    addresses.insert(things.back());
  }
  CHECK(addresses.size() == things.size());
#if SB_OBJECT_POOL_ENABLED
  CHECK(Pool::in_use() == before + things.size());
  CHECK(Pool::reserved_bytes() >= things.size() * sizeof(Thing));
#endif
  for (int i = 0; i < 5000; ++i) CHECK(things[static_cast<std::size_t>(i)]->value == i);
  [[maybe_unused]] void* last = things.back();
  delete things.back();
  things.pop_back();
  Thing* again = new Thing(-1);
#if SB_OBJECT_POOL_ENABLED
  CHECK(static_cast<void*>(again) == last);  // the freed slot comes back first
#endif
  things.push_back(again);
  for (Thing* t : things) delete t;
  CHECK(Pool::in_use() == before);
}

TEST_CASE("a derived class of another size is not taken from the base's pool") {
  const std::size_t before = Pool::in_use();
  Thing* t = new BiggerThing();
  CHECK(Pool::in_use() == before);
  CHECK(t->value == 7);
  delete t;  // virtual destructor: the sized delete sees the derived size
  CHECK(Pool::in_use() == before);
}
