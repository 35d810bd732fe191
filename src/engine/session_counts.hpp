// SessionCounts: how many sessions a worker holds, in all and per client address,
// for both transports (a BOSH Session and a WebSocket connection count alike), so
// that max_sessions, max_sessions_per_ip and the admission control see one number.
//
// Each session is counted when it starts (add) and forgotten when it ends
// (remove). Per-address counts are kept only when something needs them (a
// per-address cap, or track_peers: the client's address for the PROXY header
// towards the server); their keys, node keys of an unordered_map, do not move
// while the entry lives, so a session keeps a pointer to its key as its own
// record of its client's address instead of a copy.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <unordered_map>

namespace sb::engine {

struct SessionCaps {
  std::size_t max_sessions = 0;         // sessions of this worker; 0 = unlimited
  std::size_t max_sessions_per_ip = 0;  // per client address; 0 = unlimited
  // Keep each session's client address even without a per-address cap (for a
  // PROXY header towards the server).
  bool track_peers = false;
};

class SessionCounts {
 public:
  // `caps` is read at each call (a reload may change it) and must outlive this.
  explicit SessionCounts(const SessionCaps& caps) : caps_(caps) {}
  SessionCounts(const SessionCounts&) = delete;
  SessionCounts& operator=(const SessionCounts&) = delete;

  // A session starts, from client address `peer`. Returns the per-address key to
  // hand back to remove(), which is also the session's copy of `peer`; null when
  // no per-address count is kept.
  const std::string* add(std::string_view peer);
  // A session counted by add() ends; `peer_key` is what add() returned.
  void remove(const std::string* peer_key);

  // Live sessions, both transports.
  std::size_t live() const { return live_; }
  // Live sessions from one client address (0 when no per-address count is kept).
  std::size_t from(std::string_view peer) const;
  // max_sessions reached: no new session of either transport.
  bool full() const { return caps_.max_sessions != 0 && live_ >= caps_.max_sessions; }
  // max_sessions_per_ip reached for `peer`.
  bool full_for(std::string_view peer) const {
    return caps_.max_sessions_per_ip != 0 && from(peer) >= caps_.max_sessions_per_ip;
  }
  const SessionCaps& caps() const { return caps_; }

 private:
  const SessionCaps& caps_;
  std::size_t live_ = 0;
  std::unordered_map<std::string, std::size_t> per_peer_;
};

}  // namespace sb::engine
