// What a real client does when the connection manager refuses its login: the
// BOSH session creation or the WebSocket upgrade answered with HTTP 5xx (a login
// storm's 503 with Retry-After). Measured against Strophe.js 5.0.0 and Converse.js
// 14.0.0 (tests/tools/refusal/measure_clients.js; docs/operations.md, "Clients and
// a refused login"):
//
// - Strophe over BOSH sends the same <body/> (same rid) again: at once, then after
//   min(floor(1.1 * wait), n^3) s for the n-th resend (8, 27, 64 s with wait 60),
//   and gives up when the 5th answer is an error (CONNTIMEOUT, DISCONNECTED).
// - Strophe over WebSocket does not retry: CONNFAIL, DISCONNECTED.
// - Converse (auto_reconnect, its default) logs in again after Strophe gave up,
//   forever: over BOSH a new creation at once, starting Strophe's five tries over;
//   over WebSocket a new upgrade at once, slowed only by Chromium's per-tab
//   WebSocket throttle (failures counted, delay uniform 1-5 s times
//   2^min(failures, 16) / 65536) and, every other time, Converse's 3 s debounce.
//
// Neither reads Retry-After; --honour-retry-after waits for it instead (a client
// that would), with the same number of tries.
#pragma once

#include <cstdint>
#include <random>
#include <string>
#include <string_view>

namespace sb::soak {

struct Env;
struct Options;
struct Tally;

// Which real client the generator plays when its login is refused (--retry-as).
enum class RetryAs : std::uint8_t {
  kDefault,   // strophe over BOSH, converse over WebSocket
  kStrophe,   // Strophe.js alone
  kConverse,  // Converse.js (Strophe underneath) with auto_reconnect
  kNone,      // the first refusal ends the login
};

struct RetryPlan {
  bool give_up = false;
  std::uint64_t delay_ms = 0;  // before the next try
};

// The client's answer to the n-th refusal of one login (n >= 1, this one
// included). `retry_after_s` is the answer's Retry-After in seconds, -1 if none.
// `uniform` is a draw in [0, 1) for the browser's random throttle.
RetryPlan plan_retry(const Options& options, std::uint32_t refusals, std::int32_t retry_after_s,
                     double uniform);

// Strophe's BOSH backoff before the resend that follows the n-th error of a
// request (n >= 1): 0 for n = 1, else min(floor(1.1 * wait), n^3) seconds.
std::uint64_t strophe_bosh_delay_ms(std::uint32_t n, unsigned wait_s);
// Converse over WebSocket in Chromium: the delay before the try after the n-th refusal.
std::uint64_t converse_ws_delay_ms(std::uint32_t n, double uniform);

// The mode in effect for this run's transport (kDefault resolved).
RetryAs effective_retry_as(const Options& options);
const char* retry_as_name(RetryAs mode);

// A refusal counted in the tally: `first` when it is this login's first.
void count_refusal(Tally& tally, bool first);

// What a transport does after its login was refused once more.
struct NextTry {
  bool retry = false;
  std::uint64_t delay_ms = 0;  // before the next try
  std::string end_reason;      // without a retry: why the login ends ("" = the run is stopping)
};
// The login's `refusals` (this one not yet included) become one more, counted in
// the current second's tally; then the client --retry-as plays answers: a retry
// after a delay, or the end of the login (given up, counted; or the run is over,
// unsettled).
NextTry next_try_after_refusal(Env& env, std::uint32_t& refusals, int status,
                               std::int32_t retry_after_s);

// Retry-After as whole seconds (RFC 9110 §10.2.3 delay-seconds); -1 for an
// HTTP-date or anything else. Capped at 86400.
std::int32_t parse_retry_after(std::string_view value);
// The same, piece by piece as llhttp delivers a value: `acc` starts at -1 (none
// yet); -2 once something else than digits and blanks was seen. The value is
// retry_after_value(acc).
void feed_retry_after(std::int32_t& acc, std::string_view piece);
inline std::int32_t retry_after_value(std::int32_t acc) { return acc >= 0 ? acc : -1; }

// Feeds a header name to a case-insensitive match against "Retry-After", piece by
// piece as llhttp delivers it. `state` starts at 0; matched() after the name.
struct RetryAfterMatcher {
  std::uint8_t state = 0;
  void feed(std::string_view piece);
  bool matched() const;
};

}  // namespace sb::soak
