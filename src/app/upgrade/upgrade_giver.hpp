// UpgradeGiver: the running daemon's half of an upgrade in place (upgrade.hpp
// tells the whole story; the new daemon's half is upgrade_taker.hpp).
//
// start() runs the binary at the daemon's path beside this process, with one end
// of an UpgradeChannel on its descriptor 3, and sends it the listening sockets.
// The loop goes on serving while the new daemon reads its configuration and
// starts. When it says it is ready, the giver waits for a quiet moment (every
// session's sockets movable: no write queued, no login or restart under way;
// tried every 50 ms for at most 2 s), then holds the loop still and sends every
// session that can move, with its sockets, and every idle client connection. It
// changes nothing while it sends, so when the new daemon refuses, dies, or does
// not answer in time, this daemon simply goes on with everything (a rollback).
// When the new daemon has read every record, the giver lets the moved sessions
// and sockets go (their descriptors close here without a word to the peers),
// says "commit", and reports the outcome: the worker then ends what stayed
// behind and exits.
#pragma once

#include <uv.h>

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "app/front/http_socket.hpp"
#include "app/front/ws_socket.hpp"
#include "app/upgrade/upgrade_channel.hpp"
#include "app/upgrade/upgrade_wire.hpp"
#include "bosh/session_table.hpp"
#include "net/listener.hpp"

namespace sb::app {

// What the giver reads, sends and lets go of: the worker's parts.
struct UpgradeSource {
  uv_loop_t* loop = nullptr;
  bosh::SessionTable* sessions = nullptr;
  HttpSocketList* sockets = nullptr;
  struct ListenerRef {
    std::string role;  // "http", "https", "metrics"
    net::Listener* listener = nullptr;
    std::string address;
  };
  std::vector<ListenerRef> listeners;
  int board_fd = -1;  // the metrics board's memfd, or -1
};

struct UpgradeOutcome {
  bool committed = false;
  std::string reason;  // why not, when not
  int child_pid = 0;
  EndMessage account;  // what moved and what stays
};

class UpgradeGiver {
 public:
  using DoneFn = std::function<void(const UpgradeOutcome&)>;
  static constexpr std::uint64_t kReadyTimeoutMs = 30000;
  static constexpr int kAnswerTimeoutMs = 60000;
  static constexpr std::uint64_t kQuietRetryMs = 50;
  static constexpr int kQuietTries = 40;
  // Held requests whose wait ends sooner are answered before the move.
  static constexpr std::uint64_t kDueSoonMs = 8000;

  UpgradeGiver(UpgradeSource source, DoneFn done);
  UpgradeGiver(const UpgradeGiver&) = delete;
  UpgradeGiver& operator=(const UpgradeGiver&) = delete;
  ~UpgradeGiver();

  // Runs `exe` with `args` (argv[0] first) beside this process. False, with
  // `error`, when it cannot be started (nothing changes then).
  bool start(const std::string& exe, const std::vector<std::string>& args, std::string& error);
  // Supervised (workers > 1, supervisor_upgrade.hpp): the supervisor started
  // the new daemon, and this worker's successor is at the far end of
  // `channel_fd`; `gate` is this worker's line to the supervisor. The giver
  // sends and waits as above, but lets go only at the supervisor's commit on the
  // gate, which comes once every worker's successor has read its records; the
  // supervisor's abort (or the gate's end) rolls it back at any step. Takes both.
  // The outcome follows through `done`.
  void start_supervised(int channel_fd, std::unique_ptr<UpgradeChannel> gate);
  // After the commit: the channel to the new daemon (or worker), on which the
  // worker passes on the client connections that stayed behind (kForward,
  // successor_link.hpp). Null otherwise.
  std::unique_ptr<UpgradeChannel> take_channel() { return std::move(channel_); }
  // The moment it was asked for (CLOCK_MONOTONIC, ns).
  std::uint64_t started_ns() const { return started_ns_; }
  // Abandons an upgrade under way (this daemon is stopping): the new one is told
  // and killed; `done` is called with the reason.
  void abandon(const std::string& why);
  bool finished() const { return finished_; }
  // Still running or still watching the new binary's process (a rollback's
  // killed child not reaped yet): the worker keeps the giver until then.
  bool busy() const { return !finished_ || open_handles_ > 0; }

 private:
  struct Plan;
  static void on_readable(uv_poll_t* poll, int status, int events);
  static void on_timer(uv_timer_t* timer);
  static void on_exit(uv_process_t* process, std::int64_t status, int signal);
  static void on_handle_closed(uv_handle_t* handle);
  static void on_gate_readable(uv_poll_t* poll, int status, int events);
  void wait_for_ready();
  bool hear_commit(std::string& error);
  bool send_start(std::string& error);
  void ready();
  void lost_channel(const std::string& why);
  std::size_t release_tls_requests();
  void try_moving();
  bool plan(Plan& plan, bool last_try);
  bool send_plan(Plan& plan, std::string& error);
  void commit(Plan& plan);
  void roll_back(const std::string& why);
  void finish(UpgradeOutcome outcome);
  void close_handles();

  UpgradeSource source_;
  DoneFn done_;
  std::unique_ptr<UpgradeChannel> channel_;
  std::unique_ptr<UpgradeChannel> gate_;  // supervised only
  uv_poll_t gate_poll_{};
  uv_process_t process_{};
  uv_poll_t poll_{};
  uv_timer_t timer_{};
  bool spawned_ = false;  // this giver started the new daemon (not supervised)
  bool process_running_ = false;
  bool committed_ = false;
  std::string channel_lost_;  // set: waiting a moment for the exit status
  int open_handles_ = 0;      // closes still to complete before the giver may go
  bool handles_open_ = false;
  bool finished_ = false;
  bool waiting_ready_ = false;
  int tries_ = 0;
  int child_pid_ = 0;
  std::uint64_t started_ns_ = 0;
  EndMessage account_;  // what was sent, for the outcome
};

}  // namespace sb::app
