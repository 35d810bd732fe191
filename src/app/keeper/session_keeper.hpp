// SessionKeeper: a worker's half of keeping sessions alive across its own death
// (keeper.hpp has the keeper's half, docs/crash.md the whole story).
//
// It watches the worker's BOSH sessions (bosh::SessionWatcher) and WebSocket
// sessions (WsWatcher): every session that changed in a turn of the loop is
// sent to the keeper at the end of that turn, from the worker's check handle,
// as a record (the same SessionRecord or WsRecord, and LinkRecord, an upgrade in
// place moves) with where the session stood in its connections' byte streams,
// and, the first time, duplicates of their sockets: the server's, and for
// WebSocket the client's too (a WebSocket session is its connection). A
// session that ended or left is dropped there. A session is kept only while
// its link is plain and settled (UpstreamLink::movable), and a WebSocket
// session only while its client's connection is plain TCP with nothing queued
// (WsSocket::movable): one opening, or with bytes queued, is sent when it is
// settled, or never (TLS).
//
// When a worker starts, recover() asks the keeper for everything it holds and
// rebuilds each session here before the loop runs. A session continues only if
// the kernel's count of its server connection (net/stream_position.hpp) is
// where the record says: otherwise the dead worker read or wrote on it after
// its last record, and what it did is unknown, so that session ends
// (remote-connection-failed), counted by reason. Requests the dead worker held
// lost their connections with it: each keeps its place, and the client's resend
// of that rid (XEP-0124 §14) takes it up. A WebSocket session's client
// connection is checked the same way; one that moved is closed (the client
// reconnects, as after any dropped connection).
#pragma once

#include <uv.h>

#include <cstdint>
#include <string>
#include <string_view>
#include <unordered_set>
#include <vector>

#include "app/front/ws_socket.hpp"
#include "app/keeper/keeper_link.hpp"
#include "app/keeper/keeper_wire.hpp"
#include "app/upgrade/upgrade_tally.hpp"
#include "bosh/endpoint.hpp"
#include "bosh/session_table.hpp"
#include "net/loop_context.hpp"
#include "xmpp/upstream_connector.hpp"

namespace sb::app {

// The BOSH sids a crashed daemon had (the keeper's journal): the endpoint
// answers them remote-connection-failed. Kept for the life of this process:
// the keeper gives them only for the first minutes after the crash.
class LostSessions final : public bosh::LostSids {
 public:
  void add(std::string sid) { sids_.insert(std::move(sid)); }
  bool lost(std::string_view sid) const override { return sids_.contains(std::string(sid)); }
  std::size_t size() const { return sids_.size(); }

 private:
  std::unordered_set<std::string> sids_;
};

class SessionKeeper final : public bosh::SessionWatcher, public WsWatcher {
 public:
  static constexpr int kRecoverTimeoutMs = 30000;
  static constexpr std::uint64_t kRetryMs = 20;  // after the keeper's socket was full

  // `fd`: the worker's end of its keeper's socket (taken over). `websocket`:
  // the WebSocket sessions' shared state, null without websocket_path.
  SessionKeeper(uv_loop_t* loop, int fd, bosh::SessionTable& sessions, WsShared* websocket);
  ~SessionKeeper();
  SessionKeeper(const SessionKeeper&) = delete;
  SessionKeeper& operator=(const SessionKeeper&) = delete;

  struct Recovery {
    std::uint64_t kept = 0;       // sessions the keeper held
    std::uint64_t continued = 0;  // rebuilt here, under their sids
    ReasonCounts ended;           // the rest, by reason
    std::uint64_t ms = 0;         // how long it took
    std::uint64_t lost = 0;       // sids of sessions a crashed daemon had (journal)
  };
  // At start, before the loop runs: every session the keeper holds, rebuilt.
  // False, with `error`, when the keeper did not answer (nothing was rebuilt).
  bool recover(xmpp::UpstreamConnector& upstreams, net::LoopContext& context, Recovery& recovery,
               std::string& error);
  // From then on: watch the table and send what changed, and hear the keeper
  // (a new one, after its predecessor died, asks for every session again).
  void start();
  // The end of a loop turn (the worker's check handle, before the table's
  // collect()): every session that changed goes to the keeper.
  void flush();
  // flush() until every change is with the keeper, waiting for room on the
  // socket, for at most `timeout_ms`; false if something was left. A worker that
  // took sessions over in an upgrade calls it before its loop runs, so that a
  // death in its first loop turn loses none of them.
  bool flush_all(int timeout_ms);
  // Stops watching (shutdown: the sessions end, the keeper goes with the supervisor).
  void stop();

  void session_changed(bosh::Session& session) override;
  void sessions_freeing() override;
  void ws_changed(WsSocket& socket) override;
  void ws_freeing(WsSocket& socket) override;

  struct Counters {
    std::uint64_t records = 0;  // entries sent
    std::uint64_t full = 0;     // turns the keeper's socket was full
  };
  const Counters& counters() const { return counters_; }
  // What recover() learned of sessions a crash of the whole daemon ended.
  const LostSessions& lost() const { return lost_; }

 private:
  struct Kept;  // an entry the keeper gave back, with its sockets
  static void on_retry(uv_timer_t* timer);
  // The keeper's socket is readable: a new keeper asks for everything (kResync).
  static void on_keeper_readable(uv_poll_t* poll, int status, int events);
  // Every session again, with its sockets (a new keeper has none).
  void resync();
  bool send(KeeperMessage& message, std::vector<int>& fds);
  // A WebSocket session's entry (kEntry; `client_fd` and `link_fd` set when its
  // sockets ride with it), or why not: kLater, it can be once it has settled;
  // kNever, it cannot (TLS, closing, failing).
  enum class WsEntry { kEntry, kLater, kNever };
  WsEntry websocket_entry(WsSocket& socket, KeptEntry& entry, int& client_fd, int& link_fd);
  // The key a WebSocket session is kept under: unique among this worker's
  // sessions while it lives (this process, its address).
  std::string ws_key(const WsSocket& socket) const;
  void take_up_bosh(Kept& kept, xmpp::UpstreamConnector& upstreams, Recovery& recovery);
  void take_up_websocket(Kept& kept, xmpp::UpstreamConnector& upstreams, Recovery& recovery);

  uv_loop_t* loop_;
  KeeperLink link_;
  bosh::SessionTable& sessions_;
  WsShared* websocket_;
  std::vector<bosh::Session*> changed_;
  std::vector<WsSocket*> changed_ws_;
  std::string ws_key_prefix_;  // "ws.<pid>.": see ws_key()
  LostSessions lost_;
  std::vector<std::string> gone_;  // sids to drop, kept as text: the sessions are freed
  uv_timer_t retry_{};
  uv_poll_t readable_{};
  bool polling_ = false;
  bool watching_ = false;
  bool broken_ = false;  // the keeper is gone: nothing more is sent
  Counters counters_;
};

}  // namespace sb::app
