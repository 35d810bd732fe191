#include <doctest/doctest.h>

#include <string>

#include "bosh/body_writer.hpp"
#include "bosh/response_cache.hpp"

using sb::bosh::ResponseCache;

TEST_CASE("response cache: a limit keeps the last responses, their bytes counted") {
  ResponseCache cache;
  cache.add(10, "<body>ten</body>", 100, 2);
  cache.add(11, "<body>eleven</body>", 200, 2);
  CHECK(cache.size() == 2);
  CHECK(cache.bytes() == 16 + 19);
  cache.add(12, "<body>twelve</body>", 300, 2);  // the oldest, 10, goes
  CHECK(cache.size() == 2);
  CHECK(cache.find(10) == nullptr);
  REQUIRE(cache.find(12) != nullptr);
  CHECK(*cache.find(12)->body == "<body>twelve</body>");
  CHECK(cache.find(12)->sent_ms == 300);
  CHECK(cache.bytes() == 19 + 19);
}

TEST_CASE("response cache: without a limit everything stays until dropped through a rid") {
  ResponseCache cache;
  for (std::uint64_t rid = 1; rid <= 5; ++rid)
    cache.add(rid, "<body>" + std::to_string(rid) + "</body>", rid, 0);
  CHECK(cache.size() == 5);
  cache.drop_through(3);
  CHECK(cache.size() == 2);
  CHECK(cache.find(3) == nullptr);
  CHECK(cache.find(4) != nullptr);
  CHECK(cache.bytes() == 2 * 14);
  cache.drop_through(2);  // below what is kept: nothing changes
  CHECK(cache.size() == 2);
  cache.drop_through(100);
  CHECK(cache.size() == 0);
  CHECK(cache.bytes() == 0);
}

TEST_CASE("response cache: the empty <body/> is one shared string, others are not") {
  const std::string empty = sb::bosh::BodyWriter().finish();
  ResponseCache a;
  ResponseCache b;
  auto first = a.add(1, empty, 0, 2);
  auto second = b.add(7, empty, 0, 2);
  CHECK(first.get() == second.get());
  auto one = a.add(2, "<body>x</body>", 0, 2);
  auto other = b.add(8, "<body>x</body>", 0, 2);
  CHECK(one.get() != other.get());
}

TEST_CASE("response cache: a body keeps little unused capacity") {
  std::string body = "<body>short</body>";
  body.reserve(4096);
  ResponseCache cache;
  auto kept = cache.add(1, std::move(body), 0, 2);
  CHECK(kept->capacity() - kept->size() <= 32);
}
