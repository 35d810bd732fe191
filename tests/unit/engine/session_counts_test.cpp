// SessionCounts: one count of the sessions of both transports, in all and per
// client address, for max_sessions, max_sessions_per_ip and the admission control.
#include <doctest/doctest.h>

#include <string>

#include "engine/session_counts.hpp"

using sb::engine::SessionCaps;
using sb::engine::SessionCounts;

TEST_CASE("without a per-address cap or track_peers, only the total is kept") {
  SessionCaps caps;
  SessionCounts counts(caps);
  CHECK(counts.add("10.0.0.1") == nullptr);
  CHECK(counts.add("10.0.0.1") == nullptr);
  CHECK(counts.live() == 2);
  CHECK(counts.from("10.0.0.1") == 0);
  CHECK_FALSE(counts.full());
  CHECK_FALSE(counts.full_for("10.0.0.1"));
  counts.remove(nullptr);
  counts.remove(nullptr);
  CHECK(counts.live() == 0);
  counts.remove(nullptr);  // never below zero
  CHECK(counts.live() == 0);
}

TEST_CASE("per address: the key is the session's copy of its address, shared and stable") {
  SessionCaps caps;
  caps.max_sessions_per_ip = 2;
  SessionCounts counts(caps);
  const std::string* a = counts.add("10.0.0.1");
  REQUIRE(a != nullptr);
  CHECK(*a == "10.0.0.1");
  const std::string* b = counts.add("10.0.0.1");
  CHECK(b == a);  // one entry per address
  const std::string* c = counts.add("10.0.0.2");
  CHECK(counts.from("10.0.0.1") == 2);
  CHECK(counts.full_for("10.0.0.1"));
  CHECK_FALSE(counts.full_for("10.0.0.2"));
  CHECK(counts.live() == 3);
  counts.remove(a);
  CHECK(counts.from("10.0.0.1") == 1);
  CHECK(*b == "10.0.0.1");  // still alive while a session uses it
  counts.remove(b);
  counts.remove(c);
  CHECK(counts.from("10.0.0.1") == 0);
  CHECK(counts.live() == 0);
}

TEST_CASE("track_peers keeps the addresses without a cap") {
  SessionCaps caps;
  caps.track_peers = true;
  SessionCounts counts(caps);
  const std::string* key = counts.add("192.0.2.7");
  REQUIRE(key != nullptr);
  CHECK(*key == "192.0.2.7");
  CHECK_FALSE(counts.full_for("192.0.2.7"));  // no cap
  counts.remove(key);
  CHECK(counts.from("192.0.2.7") == 0);
}

TEST_CASE("max_sessions counts every session, and the caps are read at each call") {
  SessionCaps caps;
  caps.max_sessions = 2;
  SessionCounts counts(caps);
  counts.add("a");
  CHECK_FALSE(counts.full());
  counts.add("b");
  CHECK(counts.full());
  caps.max_sessions = 3;  // a reload changes the caps in place
  CHECK_FALSE(counts.full());
  caps.max_sessions = 0;  // unlimited
  counts.add("c");
  CHECK_FALSE(counts.full());
}
