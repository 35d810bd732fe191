// UpgradeTally: each new worker's account of an upgrade in place, sent to its
// supervisor as text, added up, and the log line that gives the total.
#include <doctest/doctest.h>

#include <string>

#include "app/upgrade/upgrade_tally.hpp"

using sb::app::UpgradeTally;

TEST_CASE("a worker's account goes to text and back whole") {
  UpgradeTally tally;
  tally.moved = 8123;
  tally.started_ns = 5'000'000'000;
  tally.ended["tls"] = 2;
  tally.ended["busy"] = 1;
  UpgradeTally back;
  REQUIRE(UpgradeTally::parse(tally.text(), back));
  CHECK(back.moved == 8123);
  CHECK(back.started_ns == 5'000'000'000);
  CHECK(back.ended == tally.ended);
  CHECK(back.ended_total() == 3);
}

TEST_CASE("accounts add up: the earliest start, reasons summed") {
  UpgradeTally total;
  UpgradeTally a;
  a.moved = 10;
  a.started_ns = 300;
  a.ended["tls"] = 1;
  UpgradeTally b;
  b.moved = 5;
  b.started_ns = 200;
  b.ended["tls"] = 2;
  b.ended["link"] = 1;
  total.add(a);
  total.add(b);
  CHECK(total.moved == 15);
  CHECK(total.started_ns == 200);
  CHECK(total.ended.at("tls") == 3);
  CHECK(total.ended_total() == 4);
  CHECK(total.summary(200 + 1'500'000'000) ==
        "upgrade: 15 sessions moved, 4 ended (link 1, tls 3), 1.500 s");
}

TEST_CASE("nothing ended says none") {
  UpgradeTally tally;
  tally.moved = 3;
  tally.started_ns = 1;
  CHECK(tally.summary(1) == "upgrade: 3 sessions moved, 0 ended (none), 0.000 s");
}

TEST_CASE("text that is not an account is refused and changes nothing") {
  UpgradeTally out;
  out.moved = 7;
  for (const char* bad : {"", "12", "x 1", "1 2 tls", "1 2 =3", "1 2 tls=x", "1 2 tls=3 busy"}) {
    CAPTURE(bad);
    CHECK_FALSE(UpgradeTally::parse(bad, out));
    CHECK(out.moved == 7);
  }
  CHECK(UpgradeTally::parse("0 0", out));
  CHECK(out.moved == 0);
}
