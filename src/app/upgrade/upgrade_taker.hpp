// UpgradeTaker: the new daemon's half of an upgrade in place (upgrade.hpp tells
// the whole story; the running daemon's half is upgrade_giver.hpp).
//
// A daemon started with SWITCHBOARD_UPGRADE_FD in its environment is taking over
// from the one that started it, over the channel on that descriptor. It first
// takes the listening sockets (and the metrics board), so that it listens on the
// very sockets the old daemon did, with their queues. Once its loop is built and
// its listeners are up it says "ready", reads every session and idle connection
// the old daemon sends, and checks every record before it answers: a record it
// cannot read makes it refuse and exit, and the old daemon keeps everything.
// Only when the old daemon says "commit" does it rebuild the sessions and adopt
// their sockets; then its loop starts. If the channel closes after it took the
// records and before that word, the old daemon is gone, so it takes over anyway.
#pragma once

#include <uv.h>

#include <memory>
#include <string>
#include <vector>

#include "app/front/http_socket.hpp"
#include "app/front/ws_socket.hpp"
#include "app/upgrade/upgrade_channel.hpp"
#include "app/upgrade/upgrade_tally.hpp"
#include "app/upgrade/upgrade_wire.hpp"
#include "bosh/session_table.hpp"
#include "http/cors.hpp"
#include "net/loop_context.hpp"
#include "xmpp/upstream_connector.hpp"

namespace sb::app {

inline constexpr const char* kUpgradeFdEnv = "SWITCHBOARD_UPGRADE_FD";

class UpgradeTaker {
 public:
  static constexpr int kStartTimeoutMs = 10000;
  static constexpr int kRecordsTimeoutMs = 60000;
  static constexpr int kCommitTimeoutMs = 90000;  // longer than the giver's wait

  // The taker named by the environment (which forgets it: a later upgrade of
  // this daemon names its own), or null when this start is not an upgrade.
  static std::unique_ptr<UpgradeTaker> from_environment(std::string& error);
  explicit UpgradeTaker(int fd) : channel_(fd) {}

  // Reads the old daemon's sockets (the kStart message).
  bool receive_start(std::string& error);
  // The socket of `role` if it was listening on `address` (ours then), else -1
  // (a changed address: this daemon binds its own).
  int take_socket(const std::string& role, const std::string& address);
  // This daemon cannot run: tells the old one why (it keeps everything).
  void refuse(const std::string& why);

  struct Parts {
    uv_loop_t* loop;
    bosh::SessionTable& sessions;
    xmpp::UpstreamConnector& upstreams;
    HttpSocket::Shared& shared;
    http::CorsPolicy& cors;
    WsShared* websocket;  // null without websocket_path: WebSocket sessions end
    // Brought to now before the sessions are rebuilt: their remaining waits and
    // inactivity count from then, not from before this daemon waited for them.
    net::LoopContext* context;
  };
  // Ready, the records, commit, and everything rebuilt here. False, with the
  // reason, when this daemon must exit (the old one keeps its sessions).
  bool take_over(const Parts& parts, std::string& error);
  // After the take-over: one connection the old daemon passed on (kForward,
  // successor_link.hpp), taken up with its request or as an idle connection.
  // False once the channel has ended (the old daemon is gone).
  bool take_forward(const Parts& parts);
  const EndMessage& account() const { return account_; }
  // Sessions that moved and run here; those whose server link could not be
  // taken up (they ended with remote-connection-failed).
  std::uint64_t sessions_moved() const { return sessions_taken_ - links_lost_; }
  std::uint64_t links_lost() const { return links_lost_; }
  // "upgrade: N sessions moved, M ended (reasons), T s", for the log.
  const std::string& summary() const { return summary_; }
  // The same account as a whole, for adding up (upgrade_tally.hpp).
  const UpgradeTally& tally() const { return tally_; }
  // The channel's descriptor (a supervisor taking over watches it in its loop,
  // supervisor_upgrade.hpp), and the channel itself to read and answer on.
  UpgradeChannel& channel() { return channel_; }
  // How many sockets of `role` the old daemon sent.
  std::size_t count(const std::string& role) const;

 private:
  struct Taken;
  bool read_records(std::vector<Taken>& taken, std::string& error);
  void adopt(const Parts& parts, std::vector<Taken>& taken);
  void adopt_websocket(const Parts& parts, Taken& t);

  UpgradeChannel channel_;
  StartMessage start_;
  std::vector<int> start_fds_;
  EndMessage account_;
  std::uint64_t sessions_taken_ = 0;
  std::uint64_t links_lost_ = 0;
  std::string summary_;
  UpgradeTally tally_;
};

}  // namespace sb::app
