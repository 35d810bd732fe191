// Unit tests of the refused-login schedules (src/tools/soak/refusal.hpp): the
// delays and the give-up points measured against Strophe.js 5.0.0 and Converse.js
// 14.0.0 (docs/operations.md, "Clients and a refused login"), --retry-as and
// --honour-retry-after, the refusal counters' text form, and the Retry-After header.
#include <doctest/doctest.h>

#include <string>

#include "parse_args.hpp"
#include "tools/soak/options.hpp"
#include "tools/soak/refusal.hpp"
#include "tools/soak/stats.hpp"

using namespace sb::soak;
using sb::soak::test::parse;

namespace {

Options options(std::vector<std::string> args) {
  Options o;
  std::string error;
  REQUIRE(parse(std::move(args), o, error));
  return o;
}

}  // namespace

TEST_CASE(
    "refusal: Strophe over BOSH resends at once, after 8, 27 and 64 s, and gives up at the 5th "
    "refusal") {
  const Options o =
      options({"--url", "http://x/http-bind"});  // wait 60: cap floor(1.1 * 60) = 66 s
  CHECK(effective_retry_as(o) == RetryAs::kStrophe);
  const std::uint64_t expected[] = {0, 8000, 27000, 64000};
  for (std::uint32_t n = 1; n <= 4; ++n) {
    const RetryPlan plan = plan_retry(o, n, 5, 0.5);
    CHECK_FALSE(plan.give_up);
    CHECK(plan.delay_ms == expected[n - 1]);
  }
  CHECK(plan_retry(o, 5, 5, 0.5).give_up);
  // A short wait caps the backoff at floor(1.1 * wait) s.
  CHECK(strophe_bosh_delay_ms(4, 10) == 11000);
  CHECK(strophe_bosh_delay_ms(3, 59) == 27000);
  CHECK(strophe_bosh_delay_ms(4, 59) == 64000);
}

TEST_CASE("refusal: Converse over BOSH starts Strophe's five tries over, forever") {
  const Options o = options({"--url", "http://x/http-bind", "--retry-as", "converse"});
  const std::uint64_t cycle[] = {0, 8000, 27000, 64000, 0};
  for (std::uint32_t n = 1; n <= 15; ++n) {
    const RetryPlan plan = plan_retry(o, n, -1, 0.5);
    CHECK_FALSE(plan.give_up);
    CHECK(plan.delay_ms == cycle[(n - 1) % 5]);
  }
}

TEST_CASE(
    "refusal: over WebSocket Strophe gives up at once, Converse never (a burst, then seconds "
    "apart)") {
  const Options strophe = options({"--url", "ws://x/xmpp-websocket", "--retry-as", "strophe"});
  CHECK(plan_retry(strophe, 1, 5, 0.5).give_up);
  const Options o = options({"--url", "ws://x/xmpp-websocket"});
  CHECK(effective_retry_as(o) == RetryAs::kConverse);
  std::uint64_t burst = 0;
  for (std::uint32_t n = 1; n <= 9; ++n) burst += plan_retry(o, n, 5, 0.999).delay_ms;
  CHECK(burst < 2000);  // the first ten tries within two seconds
  for (std::uint32_t n = 10; n <= 200; ++n) {
    const RetryPlan plan = plan_retry(o, n, 5, n % 7 / 7.0);
    CHECK_FALSE(plan.give_up);
    CHECK(plan.delay_ms >= 1000);
    CHECK(plan.delay_ms <= 8000);
  }
  CHECK(converse_ws_delay_ms(11, 0.0) == 4000);  // 3 s debounce + the 1 s floor of the throttle
  CHECK(converse_ws_delay_ms(12, 0.0) == 1000);
  CHECK(converse_ws_delay_ms(12, 1.0) == 5000);
}

TEST_CASE(
    "refusal: --retry-as none gives up at once, --honour-retry-after waits the header, same "
    "tries") {
  CHECK(plan_retry(options({"--url", "http://x/", "--retry-as", "none"}), 1, 5, 0.5).give_up);
  const Options o = options({"--url", "http://x/", "--honour-retry-after"});
  CHECK(o.honour_retry_after);
  CHECK(plan_retry(o, 1, 7, 0.5).delay_ms == 7000);
  CHECK(plan_retry(o, 2, -1, 0.5).delay_ms == 8000);  // no header: the client's own delay
  CHECK(plan_retry(o, 5, 7, 0.5).give_up);
  Options bad;
  std::string error;
  CHECK_FALSE(parse({"--url", "http://x/", "--retry-as", "chrome"}, bad, error));
  CHECK_FALSE(parse({"--url", "http://x/", "--honour-retry-after=1"}, bad, error));
}

TEST_CASE("refusal: Retry-After as delay-seconds, read in pieces, names matched in any case") {
  CHECK(parse_retry_after("5") == 5);
  CHECK(parse_retry_after(" 10 ") == 10);
  CHECK(parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT") == -1);
  CHECK(parse_retry_after("") == -1);
  CHECK(parse_retry_after("99999999") == 86400);
  std::int32_t acc = -1;
  feed_retry_after(acc, "1");
  feed_retry_after(acc, "2");
  CHECK(retry_after_value(acc) == 12);
  RetryAfterMatcher m;
  m.feed("Retry-");
  m.feed("AFTER");
  CHECK(m.matched());
  RetryAfterMatcher longer;
  longer.feed("Retry-After-X");
  CHECK_FALSE(longer.matched());
  RetryAfterMatcher other;
  other.feed("Content-Type");
  CHECK_FALSE(other.matched());
}

TEST_CASE("refusal: the counters travel through the pipe's text form") {
  Tally t;
  count_refusal(t, true);
  count_refusal(t, false);
  t.logins_refused_then_in = 1;
  Tally back;
  REQUIRE(back.deserialize(t.serialize()));
  CHECK(back.login_refusals == 2);
  CHECK(back.logins_refused == 1);
  CHECK(back.logins_refused_then_in == 1);
  CHECK(back.logins_refused_gave_up == 0);
}
