// SupervisorUpgrade: an upgrade in place with several workers, the old
// supervisor's part (docs/upgrade.md, "Several workers").
//
// A lone daemon hands itself over in one piece (upgrade_giver.hpp). With a
// supervisor every worker holds its own sessions and listener, so the move is
// made index by index, old worker i to the new daemon's worker i, straight
// between the two (their sessions and sockets never pass through a supervisor),
// and the supervisors only start it and decide it:
//
// 1. start() runs the binary at the daemon's path with the daemon's command line
//    (successor.hpp) and sends it, on the supervisors' channel, the metrics
//    board and listener and, per index, one end of a fresh UpgradeChannel
//    ("worker", "i").
//    The new supervisor starts its workers, each with its end (fd 6).
// 2. Each old worker gets a gate: a socket pair whose far end goes down its IPC
//    pipe (a kUpgradeGateTarget frame), followed on the gate by the other end of
//    its channel. It runs an UpgradeGiver on that channel
//    (UpgradeGiver::start_supervised): listeners first, then at its quiet moment
//    every session, while its new worker checks every record.
// 3. Each old worker says "taken" on its gate and waits, still holding its loop.
//    When every index has, the supervisor says "commit" on every gate and to the
//    new supervisor: the old workers let go and end, the new ones run. One
//    refusal, a closed gate, the new supervisor's refusal or exit, or no answer
//    within kDeadlineMs, and every gate hears "abort" instead: every old worker
//    keeps all it has, and the new daemon is killed.
//
// No old worker lets go before every new one holds its records, so a new binary
// that cannot read them fails the upgrade before any session has moved.
#pragma once

#include <uv.h>

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "app/upgrade/upgrade_channel.hpp"
#include "app/upgrade/upgrade_tally.hpp"

namespace sb::app {

class SupervisorUpgrade {
 public:
  static constexpr std::uint64_t kDeadlineMs = 120000;

  struct Outcome {
    bool committed = false;
    std::string reason;  // why not, when not
    int child_pid = 0;
    UpgradeTally tally;  // what the old workers sent, as they counted it
  };
  // Sends worker `index` its end of the gate (HandoverRelay::send_gate; it owns
  // `fd`). False if that worker cannot take it.
  using SendGateFn = std::function<bool(std::uint32_t index, int fd)>;
  using DoneFn = std::function<void(const Outcome&)>;

  // What the supervisor itself hands on: the metrics board and the metrics
  // listener (-1: none).
  struct Shared {
    int board_fd = -1;
    int metrics_fd = -1;
    std::string metrics_address;
  };
  SupervisorUpgrade(uv_loop_t* loop, std::uint32_t workers, Shared shared, SendGateFn send_gate,
                    DoneFn done);
  SupervisorUpgrade(const SupervisorUpgrade&) = delete;
  SupervisorUpgrade& operator=(const SupervisorUpgrade&) = delete;
  ~SupervisorUpgrade();

  // Runs `exe` with `args` and starts the exchange. False, with `error`, if
  // nothing could start (nothing changed then); otherwise `done` follows.
  bool start(const std::string& exe, const std::vector<std::string>& args, std::string& error);
  // This daemon stops: every gate hears "abort" and the new daemon is killed.
  void abandon(const std::string& why);
  // Still deciding, or still closing its handles: the supervisor keeps it.
  bool busy() const { return !finished_ || open_handles_ > 0; }

 private:
  struct Gate;
  static void on_gate_readable(uv_poll_t* poll, int status, int events);
  static void on_successor_readable(uv_poll_t* poll, int status, int events);
  static void on_exit(uv_process_t* process, std::int64_t status, int signal);
  static void on_deadline(uv_timer_t* timer);
  static void on_handle_closed(uv_handle_t* handle);
  bool send_channels(std::string& error);
  void heard(Gate& gate);
  void commit();
  void call_off(const std::string& why);
  void finish(Outcome outcome);
  void close_handles(bool committed);

  uv_loop_t* loop_;
  std::uint32_t workers_;
  Shared shared_;
  SendGateFn send_gate_;
  DoneFn done_;
  std::unique_ptr<UpgradeChannel> successor_;  // the new supervisor
  std::vector<std::unique_ptr<Gate>> gates_;
  uv_process_t process_{};
  uv_poll_t poll_{};
  uv_timer_t deadline_{};
  bool process_running_ = false;
  bool handles_open_ = false;
  bool finished_ = false;
  int open_handles_ = 0;
  int child_pid_ = 0;
  std::uint32_t taken_ = 0;
  UpgradeTally tally_;
};

}  // namespace sb::app
