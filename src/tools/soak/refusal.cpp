// The refused-login schedules of Strophe.js and Converse.js (refusal.hpp), the
// refusal counters, and the Retry-After header.
#include "tools/soak/refusal.hpp"

#include <algorithm>
#include <cmath>

#include "tools/soak/env.hpp"
#include "tools/soak/options.hpp"
#include "tools/soak/stats.hpp"

namespace sb::soak {

namespace {

// Strophe's _hitError(): the 5th error in a row ends the connection attempt.
constexpr std::uint32_t kStropheTries = 5;
// Converse's debounced reconnect (lodash debounce of 3,000 ms).
constexpr std::uint64_t kConverseDebounceMs = 3000;
constexpr std::int32_t kMaxRetryAfterS = 86400;

}  // namespace

std::uint64_t strophe_bosh_delay_ms(std::uint32_t n, unsigned wait_s) {
  if (n <= 1) return 0;  // "First retry (send === 1) should also be instantaneous"
  const auto cap = static_cast<std::uint64_t>(std::floor(1.1 * wait_s));
  const std::uint64_t cube = static_cast<std::uint64_t>(n) * n * n;
  return std::min(cap, cube) * 1000;
}

// Each refused upgrade costs Chromium's throttle about two failed connections
// (Converse opens a second socket that its next reconnect abandons): 2n - 4 fits
// the measured gaps (a burst of about ten tries within two seconds, then 1-5 s).
// From the 11th on, every other try also waits Converse's 3 s debounce.
std::uint64_t converse_ws_delay_ms(std::uint32_t n, double uniform) {
  const std::int64_t failures =
      std::clamp<std::int64_t>(2 * static_cast<std::int64_t>(n) - 4, 0, 16);
  const double throttle_ms =
      (1000.0 + 4000.0 * uniform) * static_cast<double>(1u << failures) / 65536.0;
  const std::uint64_t debounce = n >= 11 && n % 2 == 1 ? kConverseDebounceMs : 0;
  return static_cast<std::uint64_t>(throttle_ms) + debounce;
}

RetryAs effective_retry_as(const Options& o) {
  if (o.retry_as != RetryAs::kDefault) return o.retry_as;
  return o.transport == TransportKind::kWebSocket ? RetryAs::kConverse : RetryAs::kStrophe;
}

const char* retry_as_name(RetryAs mode) {
  switch (mode) {
    case RetryAs::kDefault: return "default";
    case RetryAs::kStrophe: return "strophe";
    case RetryAs::kConverse: return "converse";
    case RetryAs::kNone: return "none";
  }
  return "?";
}

RetryPlan plan_retry(const Options& o, std::uint32_t n, std::int32_t retry_after_s,
                     double uniform) {
  RetryPlan plan;
  const RetryAs mode = effective_retry_as(o);
  const bool ws = o.transport == TransportKind::kWebSocket;
  if (mode == RetryAs::kNone || (ws && mode == RetryAs::kStrophe) ||
      (!ws && mode == RetryAs::kStrophe && n >= kStropheTries)) {
    plan.give_up = true;
    return plan;
  }
  if (ws) {
    plan.delay_ms = converse_ws_delay_ms(n, uniform);
  } else {
    // Converse: after Strophe's fifth error a new login at once, whose own
    // tries follow Strophe's schedule again.
    const std::uint32_t within = (n - 1) % kStropheTries + 1;
    plan.delay_ms = within == kStropheTries ? 0 : strophe_bosh_delay_ms(within, o.wait);
  }
  if (o.honour_retry_after && retry_after_s >= 0)
    plan.delay_ms = static_cast<std::uint64_t>(retry_after_s) * 1000;
  return plan;
}

void count_refusal(Tally& t, bool first) {
  ++t.login_refusals;
  if (first) ++t.logins_refused;
}

NextTry next_try_after_refusal(Env& env, std::uint32_t& refusals, int status,
                               std::int32_t retry_after_s) {
  Tally& tally = env.interval.tally;
  count_refusal(tally, refusals == 0);
  ++refusals;
  if (env.stopping) return {};  // the run is over: no new try (counted as unsettled)
  const RetryPlan plan = plan_retry(*env.options, refusals, retry_after_s, env.uniform());
  if (plan.give_up) {
    ++tally.logins_refused_gave_up;
    return {false, 0, "refused_gave_up:http_" + std::to_string(status)};
  }
  return {true, plan.delay_ms, {}};
}

void feed_retry_after(std::int32_t& acc, std::string_view piece) {
  for (const char c : piece) {
    if (acc == -2) return;
    if (c >= '0' && c <= '9') {
      const std::int32_t v = (acc < 0 ? 0 : acc) * 10 + (c - '0');
      acc = std::min(v, kMaxRetryAfterS);
    } else if (c != ' ' && c != '\t') {
      acc = -2;
    }
  }
}

std::int32_t parse_retry_after(std::string_view value) {
  std::int32_t acc = -1;
  feed_retry_after(acc, value);
  return retry_after_value(acc);
}

void RetryAfterMatcher::feed(std::string_view piece) {
  static constexpr std::string_view kName = "retry-after";
  for (char c : piece) {
    if (state > kName.size()) return;  // mismatched already
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
    state = state < kName.size() && c == kName[state] ? static_cast<std::uint8_t>(state + 1)
                                                      : static_cast<std::uint8_t>(kName.size() + 1);
  }
}

bool RetryAfterMatcher::matched() const { return state == 11; }

}  // namespace sb::soak
