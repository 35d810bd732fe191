// Unit tests of switchboard-soak's pure parts: the latency histogram, the message
// ledger, the option parser, the pipe's text form of the figures, SASL base64,
// the --procs shares, source address ranges and the JSON report's header.
#include <doctest/doctest.h>

#include <unistd.h>

#include <algorithm>
#include <random>
#include <string>
#include <vector>

#include "parse_args.hpp"
#include "tools/soak/histogram.hpp"
#include "tools/soak/ledger.hpp"
#include "tools/soak/options.hpp"
#include "tools/soak/procs.hpp"
#include "tools/soak/report.hpp"
#include "tools/soak/source_addresses.hpp"
#include "tools/soak/stats.hpp"
#include "tools/soak/xmpp_client.hpp"

using namespace sb::soak;
using sb::soak::test::parse;

TEST_CASE(
    "histogram: buckets are within 1.6% of their values and quantiles match a sorted sample") {
  for (std::uint64_t v :
       {0ull, 1ull, 127ull, 128ull, 129ull, 1000ull, 65535ull, 1234567ull, 1ull << 40}) {
    const std::uint64_t mid = Histogram::midpoint_of(Histogram::index_of(v));
    CHECK(static_cast<double>(mid) >= static_cast<double>(v) * 0.984);
    CHECK(static_cast<double>(mid) <= static_cast<double>(v) * 1.016 + 1);
  }
  std::mt19937_64 rng(7);
  std::lognormal_distribution<double> dist(7.0, 1.5);
  Histogram h;
  std::vector<std::uint64_t> values;
  for (int i = 0; i < 20000; ++i) {
    const auto v = static_cast<std::uint64_t>(dist(rng));
    values.push_back(v);
    h.record(v);
  }
  std::sort(values.begin(), values.end());
  for (double q : {0.5, 0.9, 0.99, 0.999}) {
    const auto exact = static_cast<double>(values[static_cast<std::size_t>(q * 20000) - 1]);
    CHECK(static_cast<double>(h.quantile(q)) == doctest::Approx(exact).epsilon(0.02));
  }
  CHECK(h.max() == values.back());
  CHECK(h.quantile(1.0) == values.back());
  CHECK(h.count() == 20000);
}

TEST_CASE("histogram: merge adds counts and the text form round-trips") {
  Histogram a;
  Histogram b;
  for (std::uint64_t v = 1; v <= 1000; ++v) a.record(v);
  for (std::uint64_t v = 5000; v <= 6000; ++v) b.record(v);
  Histogram m = a;
  m.merge(b);
  CHECK(m.count() == 2001);
  CHECK(m.max() == 6000);
  Histogram back;
  REQUIRE(back.deserialize(m.serialize()));
  CHECK(back.count() == m.count());
  CHECK(back.quantile(0.5) == m.quantile(0.5));
  CHECK(back.quantile(0.99) == m.quantile(0.99));
  CHECK_FALSE(back.deserialize("3 9 99999:1"));
  Histogram empty;
  CHECK(empty.quantile(0.99) == 0);
}

TEST_CASE("ledger: in order, overtaken, duplicated, lost, echoed and foreign messages") {
  Ledger l;
  const std::string m1 = l.compose(0, 1, 1000, 64);
  const std::string m2 = l.compose(0, 1, 2000, 64);
  const std::string m3 = l.compose(0, 1, 3000, 64);
  const std::string m4 = l.compose(0, 1, 4000, 64);
  CHECK(m1.size() == 64);
  CHECK(l.sent() == 4);
  std::uint64_t lat = 0;
  CHECK(l.receive(1, m1, 1500, lat) == Ledger::Outcome::kFirst);
  CHECK(lat == 500);
  CHECK(l.receive(1, m3, 3500, lat) == Ledger::Outcome::kFirst);  // m2 now missing
  CHECK(l.receive(1, m2, 3600, lat) == Ledger::Outcome::kReordered);
  CHECK(lat == 1600);
  CHECK(l.receive(1, m2, 3700, lat) == Ledger::Outcome::kDuplicate);
  CHECK(l.receive(1, m1, 3700, lat) == Ledger::Outcome::kDuplicate);
  CHECK(l.outstanding() == 1);                                      // m4 never arrives: lost
  CHECK(l.receive(0, m4, 5000, lat) == Ledger::Outcome::kEcho);     // back to its sender
  CHECK(l.receive(2, m4, 5000, lat) == Ledger::Outcome::kForeign);  // another receiver
  CHECK(l.receive(1, "hello", 5000, lat) == Ledger::Outcome::kForeign);
  CHECK(l.receive(1, "soak:0:1:9:1:", 5000, lat) == Ledger::Outcome::kForeign);  // never sent
  CHECK(l.unique_received() == 3);
}

TEST_CASE("options: the spellings of issue 7 and their defaults") {
  Options o;
  std::string error;
  REQUIRE(parse({"--url",
                 "http://127.0.0.1:5280/http-bind",
                 "--sessions",
                 "20",
                 "--duration",
                 "4",
                 "--json",
                 "r.json",
                 "--domain",
                 "example.com",
                 "--user-pattern",
                 "user%d",
                 "--password",
                 "pw%d",
                 "--first-user",
                 "5",
                 "--procs",
                 "2",
                 "--rate",
                 "40",
                 "--msg-rate",
                 "10.5",
                 "--msg-size",
                 "100",
                 "--hold",
                 "1",
                 "--wait",
                 "30",
                 "--drop",
                 "0.1",
                 "--delay",
                 "200",
                 "--html",
                 "r.html",
                 "--watch-pid",
                 "12",
                 "--watch-pid=13",
                 "--max-errors",
                 "3",
                 "--source",
                 "127.0.1.1-127.0.1.9",
                 "--peers",
                 "random",
                 "--roster"},
                o, error));
  CHECK(o.host == "127.0.0.1");
  CHECK(o.port == 5280);
  CHECK(o.path == "/http-bind");
  CHECK(o.sasl == SaslMech::kPlain);  // a password implies PLAIN
  CHECK(o.sessions == 20);
  CHECK(o.first_user == 5);
  CHECK(o.msg_rate == doctest::Approx(10.5));
  CHECK(o.drop == doctest::Approx(0.1));
  CHECK(o.watch_pids == std::vector<int>{12, 13});
  CHECK(o.peers == PeerMode::kRandom);
  CHECK(o.roster);
  CHECK(expand_pattern(o.user_pattern, 7) == "user7");
  CHECK(expand_pattern("a%d-%%-%d", 3) == "a3-%-3");

  Options anon;
  REQUIRE(parse({"--url", "http://localhost/bosh"}, anon, error));
  CHECK(anon.sasl == SaslMech::kAnonymous);
  CHECK(anon.port == 80);

  Options bad;
  CHECK_FALSE(parse({"--url", "https://x/"}, bad, error));
  CHECK_FALSE(parse({"--url", "http://x/", "--sessions", "0"}, bad, error));
  CHECK_FALSE(parse({"--url", "http://x/", "--sasl", "scram"}, bad, error));
  CHECK_FALSE(parse({"--url", "http://x/", "--bogus"}, bad, error));
  CHECK(error.find("--bogus") != std::string::npos);
  Options none;
  CHECK_FALSE(parse({"--sessions", "3"}, none, error));  // no --url
}

TEST_CASE("options: --client strophe (the default) or classic, and the cut delay each implies") {
  Options o;
  std::string error;
  REQUIRE(parse({"--url", "http://x/http-bind", "--drop", "0.1"}, o, error));
  CHECK(o.client == BoshClient::kStrophe);
  CHECK(o.cut_delay_ms == 50);  // the server sees the cut before the resend
  CHECK(std::string(bosh_client_name(o.client)) == "strophe");

  Options classic;
  REQUIRE(parse({"--url", "http://x/http-bind", "--client", "classic"}, classic, error));
  CHECK(classic.client == BoshClient::kClassic);
  CHECK(classic.cut_delay_ms == 0);  // the earlier behaviour: the client closes, resends at once
  CHECK(std::string(bosh_client_name(classic.client)) == "classic");

  Options given;
  REQUIRE(parse({"--url", "http://x/http-bind", "--client=classic", "--cut-delay", "200"}, given,
                error));
  CHECK(given.cut_delay_ms == 200);

  // With --drop the drain outlasts Strophe's backoff of a twice cut request (8 s,
  // then floor(1.1 * wait) at most), unless it is given.
  CHECK(o.drain_s == 5 + 8 + 27);  // --wait 60
  Options ten;
  REQUIRE(parse({"--url", "http://x/", "--drop", "0.1", "--wait", "10"}, ten, error));
  CHECK(ten.drain_s == 5 + 8 + 11);
  Options given_drain;
  REQUIRE(parse({"--url", "http://x/", "--drop", "0.1", "--drain", "3"}, given_drain, error));
  CHECK(given_drain.drain_s == 3);
  Options no_drop;
  REQUIRE(parse({"--url", "http://x/"}, no_drop, error));
  CHECK(no_drop.drain_s == 5);
  CHECK(classic.drain_s == 5);

  Options bad;
  CHECK_FALSE(parse({"--url", "http://x/", "--client", "converse"}, bad, error));
  CHECK(error.find("--client") != std::string::npos);
  CHECK_FALSE(parse({"--url", "http://x/", "--cut-delay", "-1"}, bad, error));
}

TEST_CASE("stats: tally, interval and final survive the pipe's text form") {
  Interval iv;
  iv.index = 7;
  iv.sessions = 42;
  iv.loop_lag_ms = 3.25;
  iv.tally.logins = 5;
  iv.tally.messages_sent = 9;
  iv.tally.error("terminate:policy-violation");
  iv.tally.error("http 503|x");  // separators are sanitized
  iv.latency.record(1500);
  iv.login.record(20000);
  Interval back;
  REQUIRE(back.deserialize(iv.serialize()));
  CHECK(back.index == 7);
  CHECK(back.sessions == 42);
  CHECK(back.loop_lag_ms == doctest::Approx(3.25));
  CHECK(back.tally.logins == 5);
  CHECK(back.tally.errors == 2);
  CHECK(back.tally.errors_by_kind.at("terminate:policy-violation") == 1);
  CHECK(back.tally.errors_by_kind.at("http_503_x") == 1);
  CHECK(back.latency.count() == 1);

  Final f;
  f.sessions_target = 10;
  f.sessions_established = 9;
  f.messages_lost = 1;
  f.rss_baseline = 1000;
  f.rss_loaded = 9000;
  f.source = "127.0.1.1-127.0.1.9";
  f.tally = iv.tally;
  Final g;
  REQUIRE(g.deserialize(f.serialize()));
  CHECK(g.sessions_established == 9);
  CHECK(g.source == f.source);
  g.merge(f);
  CHECK(g.sessions_target == 20);
  CHECK(g.tally.errors == 4);
}

TEST_CASE("base64 for SASL PLAIN") {
  CHECK(base64(std::string("\0u1\0p1", 6)) == "AHUxAHAx");  // as in the Prosody transcript
  CHECK(base64("a") == "YQ==");
  CHECK(base64("ab") == "YWI=");
  CHECK(base64("abc") == "YWJj");
}

TEST_CASE(
    "--procs shares: even blocks (pairs stay in one process), every session once, rates in "
    "proportion") {
  Options o;
  o.sessions = 101;
  o.procs = 4;
  o.rate = 101;
  o.msg_rate = 202;
  const auto shares = make_shares(o);
  std::uint64_t total = 0;
  std::uint64_t next = o.first_user;
  double rate = 0;
  for (const Share& s : shares) {
    CHECK(s.first_number == next);
    if (&s != &shares.back()) CHECK(s.count % 2 == 0);
    next += s.count;
    total += s.count;
    rate += s.rate;
  }
  CHECK(total == 101);
  CHECK(rate == doctest::Approx(101));
}

TEST_CASE("source address ranges") {
  SourceAddresses s;
  std::string error;
  REQUIRE(s.parse("127.0.1.1-127.0.1.3", error));
  CHECK(s.size() == 3);
  CHECK(s.describe() == "127.0.1.1-127.0.1.3");
  const std::uint32_t first = s.next();
  s.next();
  s.next();
  CHECK(s.next() == first);  // round robin
  CHECK_FALSE(s.parse("127.0.1.9-127.0.1.1", error));
  CHECK_FALSE(s.parse("nonsense", error));
  CHECK(ephemeral_port_count() > 1000);
  const int fd = open_bound_socket(first);
  CHECK(fd >= 0);
  if (fd >= 0) ::close(fd);
}

// The report names the version of the build that wrote it: the project's, as
// project() in the top-level CMakeLists.txt sets it (passed to this test by its
// CMakeLists.txt), the number switchboard --version prints too.
TEST_CASE("report: the JSON names the tool and the project's version") {
  Options o;
  std::string error;
  REQUIRE(parse({"--url", "http://127.0.0.1:5280/http-bind", "--sessions", "2"}, o, error));
  const Collector collector(o, 1);
  const std::string json = build_json(o, collector, RunInfo{"2026-01-01T00:00:00Z", 1.0});
  CHECK(json.find("\"tool\": \"switchboard-soak\",\n") != std::string::npos);
  CHECK(json.find(std::string("\"version\": \"") + SB_EXPECTED_VERSION + "\",\n") !=
        std::string::npos);
  CHECK(std::string(SB_EXPECTED_VERSION).find('.') != std::string::npos);  // a real x.y.z got here
}
