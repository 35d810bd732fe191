// SessionTable: the sessions of one worker, found by sid.
//
// The index is a hash table chained through the sessions themselves (each holds
// the link to the next in its bucket) and keyed by each session's own sid, so an
// entry costs 8 bytes in the session and about one bucket pointer, instead of a
// 48-byte map node allocated among each session's creation-time garbage. Sessions that end are retired: out of the index at once (a
// later request with that sid is answered item-not-found) but freed only by
// collect(), which the owner calls from a safe point of the event loop (a uv_check
// handle), never from inside a session's own call stack.
#pragma once

#include <cstddef>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "base/local_shared.hpp"
#include "bosh/condition.hpp"
#include "bosh/engine_events.hpp"
#include "bosh/settings.hpp"
#include "engine/upstream.hpp"

namespace sb::base {
class TimerWheel;
}

namespace sb::bosh {

class Session;

class SessionTable {
 public:
  SessionTable(const EngineSettings& settings, base::TimerWheel& timers);
  SessionTable(const SessionTable&) = delete;
  SessionTable& operator=(const SessionTable&) = delete;
  ~SessionTable();

  Session* find(std::string_view sid) const;
  // Adds a new session (the table owns it), created from client address `peer`.
  // Returns it for convenience.
  Session& add(std::unique_ptr<Session> session, std::string_view peer);
  // Takes `session` out of the index; it is freed by the next collect().
  void retire(Session& session);
  // Frees retired sessions. Call where no session is on the call stack.
  void collect();
  // Ends every session with `condition` (system-shutdown on SIGTERM).
  void end_all(Condition condition);

  // BOSH sessions in the index.
  std::size_t size() const { return size_; }
  // Sessions of the other transport (WebSocket, app/ws_socket.hpp): not indexed
  // (nothing finds them by sid), but counted with these for max_sessions,
  // max_sessions_per_ip and the admission control, so both transports share one
  // cap. count_other returns the per-address key to hand back to forget_other
  // (null when neither a per-address cap nor EngineSettings::track_peers is set).
  const std::string* count_other(std::string_view peer);
  void forget_other(const std::string* peer_key);
  // Every live session of this worker, both transports.
  std::size_t live_sessions() const { return size_ + others_; }
  // Requests held by all live BOSH sessions: a walk over every session, for a
  // once-a-second metrics sample, not for hot paths.
  std::size_t held_requests() const;
  // Live sessions (both transports) created from one client address.
  std::size_t sessions_from(std::string_view peer) const;
  std::size_t retired_count() const { return retired_.size(); }
  // One shared copy of `target` for the sessions that name the same server and
  // stream attributes (nearly all of them): a target is ~170 bytes of strings.
  // Consecutive equal targets share; the copy lives as long as a session uses it.
  base::LocalShared<engine::UpstreamTarget> share_target(engine::UpstreamTarget&& target);
  // The same for the negotiated BOSH version ("1.6", "1.11", ...).
  base::LocalShared<std::string> share_version(std::string&& ver);
  const EngineSettings& settings() const { return settings_; }
  // Who hears about sessions created and ended (may be null).
  void set_events(EngineEvents* events) { events_ = events; }
  EngineEvents* events() const { return events_; }
  base::TimerWheel& timers() const { return timers_; }

 private:
  const EngineSettings& settings_;
  base::TimerWheel& timers_;
  EngineEvents* events_ = nullptr;
  std::size_t bucket_index(std::string_view sid) const;
  Session** bucket_of(std::string_view sid);
  void grow_index();
  template <typename F>
  void for_each_live(F&& f) const;

  std::vector<Session*> buckets_;  // a power of two of chains, or empty
  std::size_t size_ = 0;
  std::size_t others_ = 0;  // sessions of the other transport
  // Sessions per client address, kept only when a per-address cap is set. Its
  // keys are the sessions' peer(): node keys do not move while the entry lives.
  std::unordered_map<std::string, std::size_t> per_peer_;
  std::vector<std::unique_ptr<Session>> retired_;
  base::LocalShared<engine::UpstreamTarget> last_target_;
  base::LocalShared<std::string> last_version_;
};

}  // namespace sb::bosh
