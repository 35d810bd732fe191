// LoginPacer: overload control for logins, one per worker (docs/operations.md,
// "A login storm").
//
// After an outage every client logs in again at once. A worker that accepts them
// all spends its loop on logins it cannot finish in time: the XMPP server's stream
// headers come late, clients time out and retry, and the sessions that were
// already established wait behind them (the storm of 2026-12-06 lost half their
// messages). So a login (a BOSH creation, a WebSocket upgrade) is admitted only
// while the worker can finish it, and refused at once otherwise with HTTP 503 and
// a jittered Retry-After: a refusal costs microseconds, established sessions keep
// the loop, and the client retries (docs/operations.md says when Strophe.js and
// Converse.js do).
//
// A BOSH creation beyond the rate may wait its turn in the endpoint's queue when
// the current rate reaches it within kMaxQueueWaitMs (bosh::Endpoint holds it,
// and the pacer's probe timer starts those whose turn has come); beyond that, or
// for a WebSocket upgrade, it is refused.
//
// Three bounds, checked for each login:
// - logins in progress (upstream connect and stream opening not yet complete):
//   at most max_logins_in_progress at once, and none older than
//   kMaxOpeningAgeMs (an XMPP server that stopped answering fills nothing up);
// - a rate, logins admitted per second, from a token bucket whose rate adapts
//   once a second (LoginRate) while logins arrive: down by a quarter (a half if
//   the lag was four times the target) when the last second was overloaded (the
//   loop lagged more than kLagTargetMs: established sessions waited; an opening
//   failed; or openings took longer than kOpeningTargetMs: the XMPP server is
//   behind), up by an eighth when logins were refused for want of tokens and
//   nothing was overloaded; never below LoginRate::kMinRate. The server's own
//   pace is respected the same way: its slowness is what lengthens the openings.
//
// The pacer is the workers' xmpp::LinkObserver (it sees every link's opening)
// and passes every call on to the next observer, the metrics recorder. The loop
// lag is measured by a timer every kProbeMs: how late it fires is how long the
// loop was busy elsewhere. It costs one timer and a few counters per worker.
#pragma once

#include <uv.h>

#include <array>
#include <cstdint>
#include <functional>
#include <random>

#include "engine/login_gate.hpp"
#include "xmpp/link_observer.hpp"

namespace sb::app {

// The adaptive rate, apart from any clock so that tests can drive it.
class LoginRate {
 public:
  static constexpr double kMinRate = 20;  // logins per second per worker, at worst

  // What one window (a second) looked like.
  struct Window {
    std::uint64_t max_lag_ms = 0;      // the loop's worst lateness
    std::uint64_t opened = 0;          // openings completed
    std::uint64_t failed = 0;          // openings the server failed
    std::uint64_t max_opening_ms = 0;  // the slowest completed opening
    bool starved = false;              // a login was refused for want of tokens
    std::uint64_t logins = 0;          // logins asked for (admitted or refused)
  };
  struct Targets {
    std::uint64_t lag_ms = 50;
    std::uint64_t opening_ms = 2000;
  };

  LoginRate(double initial, double max, Targets targets)
      : rate_(initial), max_(max), targets_(targets) {}

  // Adjusts the rate after a window; returns why it went down ("" if it did not).
  const char* end_window(const Window& window);
  double rate() const { return rate_; }

 private:
  double rate_;
  double max_;
  Targets targets_;
};

struct LoginPacerSettings {
  std::uint32_t max_in_progress = 256;  // per worker; 0 = pacing off
  double initial_rate = 200;            // logins per second per worker
  double max_rate = 10000;
};

struct LoginPacerCounters {
  std::uint64_t admitted = 0;
  std::uint64_t refused = 0;         // 503: overload
  std::uint64_t queued = 0;          // waited their turn
  std::uint64_t opened = 0;          // openings completed
  std::uint64_t failed = 0;          // openings the server failed
  std::uint64_t opening_ms_sum = 0;  // of the completed openings
};

class LoginPacer final : public xmpp::LinkObserver, public engine::LoginGate {
 public:
  static constexpr std::uint64_t kProbeMs = 100;
  static constexpr std::uint64_t kWindowMs = 1000;
  static constexpr std::uint64_t kMaxOpeningAgeMs = 5000;
  static constexpr std::uint64_t kLagTargetMs = 25;
  static constexpr std::uint64_t kOpeningTargetMs = 2000;
  // A login may wait its turn (LoginGate::kQueue) when the current rate starts it
  // within this long; beyond, it is refused.
  static constexpr std::uint64_t kMaxQueueWaitMs = 8000;

  // `next`: the observer every call is passed on to (may be null).
  LoginPacer(uv_loop_t* loop, LoginPacerSettings settings, xmpp::LinkObserver* next);
  LoginPacer(const LoginPacer&) = delete;
  LoginPacer& operator=(const LoginPacer&) = delete;
  // close() must have been called and the loop run.
  ~LoginPacer() = default;

  void close();
  // A reload: the new bounds (the adapted rate stays, within the new maximum).
  void update(const LoginPacerSettings& settings);

  // engine::LoginGate
  Decision decide(std::size_t waiting, bool can_queue) override;
  bool admit_queued() override;
  void on_room(std::function<void()> fn) override { on_room_ = std::move(fn); }

  // xmpp::LinkObserver
  void link_connected(std::uint64_t micros) override;
  void link_connect_failed() override;
  void link_bytes_sent(std::size_t bytes) override;
  void link_bytes_received(std::size_t bytes) override;
  void link_stanza_received() override;
  void link_opening() override;
  void link_open_ended(OpenOutcome outcome, std::uint64_t millis) override;

  std::uint64_t in_progress() const { return in_progress_; }
  double rate() const { return rate_.rate(); }
  const LoginPacerCounters& counters() const { return counters_; }

 private:
  static constexpr std::size_t kAgeSlots = 16;  // seconds of opening starts kept apart

  static void on_probe(uv_timer_t* timer);
  void end_window();
  std::uint64_t oldest_opening_ms() const;
  bool room() const;
  bool take_token();
  std::uint32_t retry_after();

  uv_loop_t* loop_;
  LoginPacerSettings settings_;
  xmpp::LinkObserver* next_;
  uv_timer_t probe_{};
  std::uint64_t last_probe_ms_ = 0;
  std::uint64_t window_start_ms_ = 0;
  LoginRate rate_;
  LoginRate::Window window_;
  double tokens_ = 0;
  std::uint64_t in_progress_ = 0;
  // Openings in progress by the second they started (slot = second % kAgeSlots),
  // for the age of the oldest; a link tells its age when it ends.
  std::array<std::uint32_t, kAgeSlots> started_in_second_{};
  std::uint64_t refused_in_window_ = 0;
  std::uint64_t admitted_in_window_ = 0;
  std::minstd_rand jitter_;
  std::function<void()> on_room_;
  LoginPacerCounters counters_;
};

}  // namespace sb::app
