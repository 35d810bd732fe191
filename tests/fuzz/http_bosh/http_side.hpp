// The client side of the fuzz world: what sits between an http::Connection and the
// fuzzer, instrumented so that every rule of the HTTP contract is checked as it
// happens rather than inferred at the end.
//
// CheckedTransport is the Connection's Transport. It checks each write as a client
// would read it: a well-formed head (no header injection), Content-Length equal to
// the body, answers in request order (every handler answer carries the X-Fuzz-Seq
// tag of its request, and the tags must come out 0, 1, 2...), nothing after a
// refusal or a "Connection: close" answer, nothing after close().
//
// TapHandler is the Connection's Handler. It wraps each Exchange in a TapExchange
// numbered in dispatch order before passing it on (to the Router), and the tap
// checks the Exchange contract from the handler's side: at most one send(), no
// send() after the exchange was lost, lost only while unanswered. It also records
// when the request was dispatched, so the world can tell a request held too long.
#pragma once

#include <cstddef>
#include <cstdint>
#include <deque>
#include <memory>
#include <string>

#include "base/timer_wheel.hpp"
#include "http/exchange.hpp"
#include "http/transport.hpp"

namespace sb::fuzz {

// The response header the taps add; the transport checks it.
inline constexpr const char* kSeqHeader = "X-Fuzz-Seq";

class CheckedTransport final : public http::Transport {
 public:
  void write(std::string head, std::shared_ptr<const std::string> body) override;
  void close() override;
  void pause_reading() override { paused = true; }
  void resume_reading() override { paused = false; }
  std::size_t queued_bytes() const override { return queued; }

  std::size_t queued = 0;  // set by the fuzzer to simulate a client that does not read
  bool paused = false;
  bool closed = false;
  bool final_written = false;  // a refusal or a "Connection: close" answer went out
  std::uint32_t next_seq = 0;  // the tag the next handler answer must carry
  std::size_t responses = 0;   // final (non-1xx) responses written
};

class TapExchange final : public http::Exchange, public http::ExchangeWatcher {
 public:
  enum class State : std::uint8_t { kPending, kAnswered, kLost };

  TapExchange(http::Exchange& inner, std::uint32_t seq, std::uint64_t dispatched_ms)
      : inner_(&inner), seq_(seq), dispatched_ms_(dispatched_ms) {}

  void send(http::Response response) override;
  void exchange_lost(http::Exchange& exchange) override;

  State state() const { return state_; }
  std::uint32_t seq() const { return seq_; }
  std::uint64_t dispatched_ms() const { return dispatched_ms_; }

 private:
  http::Exchange* inner_;  // the Connection's exchange; null once answered or lost
  std::uint32_t seq_;
  std::uint64_t dispatched_ms_;
  State state_ = State::kPending;
  bool losing_ = false;  // inside our own exchange_lost(): a send() then is ignored
};

class TapHandler final : public http::Handler {
 public:
  TapHandler(http::Handler& next, const base::TimerWheel& clock) : next_(next), clock_(clock) {}
  void handle(http::Request& request, http::Exchange& exchange) override;

  // Every exchange dispatched on this connection, in order; they outlive the
  // Connection (the owner frees this handler after it).
  const std::deque<std::unique_ptr<TapExchange>>& taps() const { return taps_; }

 private:
  http::Handler& next_;
  const base::TimerWheel& clock_;
  std::deque<std::unique_ptr<TapExchange>> taps_;
};

}  // namespace sb::fuzz
