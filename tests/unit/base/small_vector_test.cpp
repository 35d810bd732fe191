// SmallVector, the Session's inline lists (held requests, cached responses).
#include <doctest/doctest.h>

#include <algorithm>
#include <cstdint>
#include <memory>
#include <string>

#include "base/small_vector.hpp"

using sb::base::SmallVector;

TEST_CASE("SmallVector keeps order through push_back and erase, spilling and coming back") {
  SmallVector<std::string, 2> v;
  CHECK(v.empty());
  for (int i = 0; i < 5; ++i) v.push_back("item number " + std::to_string(i));  // past SSO
  REQUIRE(v.size() == 5);
  CHECK(v.front() == "item number 0");
  v.erase(v.begin() + 1);
  CHECK(std::equal(v.begin(), v.end(),
                   std::begin({std::string("item number 0"), std::string("item number 2"),
                               std::string("item number 3"), std::string("item number 4")})));
  // Back to two: the elements move inline again and stay intact.
  v.erase(v.begin(), v.begin() + 2);
  REQUIRE(v.size() == 2);
  CHECK(v.front() == "item number 3");
  CHECK(*(v.begin() + 1) == "item number 4");
  v.push_back("again");
  CHECK(v.size() == 3);
  v.erase(std::remove_if(v.begin(), v.end(), [](const std::string& s) { return s != "again"; }),
          v.end());
  REQUIRE(v.size() == 1);
  CHECK(v.front() == "again");
  v.clear();
  CHECK(v.empty());
}

TEST_CASE("SmallVector destroys what it holds") {
  auto counted = std::make_shared<int>(0);
  {
    SmallVector<std::shared_ptr<int>, 1> v;
    for (int i = 0; i < 4; ++i) v.push_back(counted);
    CHECK(counted.use_count() == 5);
    v.erase(v.begin());
    CHECK(counted.use_count() == 4);
  }
  CHECK(counted.use_count() == 1);
}

TEST_CASE("SmallVector's header is 8 bytes: a spilled block's address shares the inline bytes") {
  struct Four {
    std::uint64_t a, b, c, d;
  };
  static_assert(sizeof(SmallVector<Four, 1>) == 8 + sizeof(Four));
  static_assert(sizeof(SmallVector<Four, 2>) == 8 + 2 * sizeof(Four));
  static_assert(sizeof(SmallVector<char, 1>) == 16);  // room for the block's address
  // Spilling to the heap and back keeps every element, at every size.
  SmallVector<Four, 1> v;
  for (std::uint64_t i = 0; i < 9; ++i) v.push_back(Four{i, i + 1, i + 2, i + 3});
  REQUIRE(v.size() == 9);
  for (std::uint64_t i = 0; i < 9; ++i) CHECK((v.begin() + i)->d == i + 3);
  v.erase(v.begin(), v.begin() + 8);
  REQUIRE(v.size() == 1);
  CHECK(v.front().a == 8);
  v.push_back(Four{20, 21, 22, 23});
  CHECK((v.begin() + 1)->b == 21);
  SmallVector<char, 1> c;
  for (char ch = 'a'; ch <= 'z'; ++ch) c.push_back(ch);
  CHECK(std::string(c.begin(), c.end()) == "abcdefghijklmnopqrstuvwxyz");
}
