// Runner: one generator process's whole run on its own libuv loop.
//
// It starts its share of the sessions on the open-loop login schedule (--rate),
// sends chat messages on the open-loop message schedule (--msg-rate) between its
// own online sessions, measures its loop's lag with a tick set for the next thing due, hands a
// figures-of-the-second Interval to `on_interval` once a second, and at the end
// (duration, then --drain for messages in flight, then closing every session)
// a Final to `on_final`. With --procs each child runs one Runner and the two
// callbacks write to the pipe; in one process they feed the Collector directly.
#pragma once

#include <uv.h>

#include <cstdint>
#include <functional>
#include <memory>
#include <vector>

#include "tools/soak/env.hpp"
#include "tools/soak/ledger.hpp"
#include "tools/soak/xmpp_client.hpp"

namespace sb::soak {

struct Share {
  std::uint64_t first_number = 1;  // --user-pattern number of the first session
  std::uint64_t count = 0;
  double rate = 1;      // logins/s for this process
  double msg_rate = 0;  // messages/s for this process
  unsigned proc = 0;
};

class Runner final : private ClientObserver {
 public:
  using IntervalFn = std::function<void(const Interval&)>;
  using FinalFn = std::function<void(const Final&)>;

  Runner(const Options& options, const Env& prototype, Share share, IntervalFn on_interval,
         FinalFn on_final);
  ~Runner();
  // Runs to the end. Returns 0, or 1 when the loop could not start.
  int run();

 private:
  enum class Phase { kRun, kDrain, kClosing, kDone };
  static void on_tick(uv_timer_t* timer);
  static void on_signal(uv_signal_t* handle, int signum);
  // SIGINT/SIGTERM: the run phase ends now (stop_request.hpp).
  void stop_early();
  void tick();
  void schedule_tick(std::uint64_t now_ns);
  void start_logins(std::uint64_t now_ns);
  void send_messages(std::uint64_t now_ns);
  void emit_interval();
  void finish();
  bool pick_pair(std::uint32_t& sender, std::uint32_t& receiver);

  void on_online(XmppClient& client) override;
  void on_chat(XmppClient& client, std::string_view body) override;
  void on_client_ended(XmppClient& client, std::string_view error) override;
  void set_online(std::uint32_t index, bool online);

  const Options& options_;
  Share share_;
  IntervalFn on_interval_;
  FinalFn on_final_;
  uv_loop_t loop_{};
  std::unique_ptr<net::LoopContext> context_;
  Env env_;
  Ledger ledger_;
  std::vector<std::unique_ptr<XmppClient>> clients_;
  std::vector<std::uint32_t> online_;      // indices of online clients
  std::vector<std::uint32_t> online_pos_;  // index -> position in online_, or kNone
  uv_timer_t tick_{};
  uv_signal_t signals_[3]{};  // SIGINT, SIGTERM, SIGUSR1 (stop_request.hpp)
  Phase phase_ = Phase::kRun;
  std::uint64_t t0_ns_ = 0;
  std::uint64_t next_tick_ns_ = 0;
  std::uint64_t next_second_ns_ = 0;
  std::uint64_t phase_end_ns_ = 0;
  std::uint64_t started_ = 0;
  std::uint64_t messages_slotted_ = 0;
  std::size_t close_cursor_ = 0;  // next client to close in the closing phase
  std::uint64_t ended_ = 0;       // clients that have ended, for any reason
  std::uint64_t last_login_ns_ = 0;
  Final final_;
  bool loaded_measured_ = false;
};

}  // namespace sb::soak
