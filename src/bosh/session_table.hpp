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
#include <vector>

#include "base/local_shared.hpp"
#include "bosh/condition.hpp"
#include "bosh/settings.hpp"
#include "engine/engine_events.hpp"
#include "engine/session_counts.hpp"
#include "engine/upstream.hpp"

namespace sb::base {
class TimerWheel;
}

namespace sb::bosh {

class Session;
struct SessionRecord;

// Hears of every change to a session's state, for a copy kept outside the
// process (app/keeper/): called after each change, several times per change at
// times, and once more when the session leaves the index (ended or moved).
class SessionWatcher {
 public:
  virtual void session_changed(Session& session) = 0;
  // The sessions that left the index are about to be freed: whoever holds one
  // (it was named by session_changed) lets go now.
  virtual void sessions_freeing() = 0;

 protected:
  ~SessionWatcher() = default;
};

class SessionTable {
 public:
  // `counts` counts the sessions of both transports (engine/session_counts.hpp);
  // the table adds each of its sessions there and takes it out when it retires.
  SessionTable(const EngineSettings& settings, base::TimerWheel& timers,
               engine::SessionCounts& counts);
  SessionTable(const SessionTable&) = delete;
  SessionTable& operator=(const SessionTable&) = delete;
  ~SessionTable();

  Session* find(std::string_view sid) const;
  // Adds a new session (the table owns it), created from client address `peer`.
  // Returns it for convenience.
  Session& add(std::unique_ptr<Session> session, std::string_view peer);
  // Adds a session that moved here as a record (bosh/session_record.hpp), under
  // its own sid and client address; then Session::resume gives it its sockets.
  // Not a new session: no session_created event.
  Session& restore(SessionRecord&& record);
  // Takes a session that moved to another process out of the index, like retire
  // but without an end event: it did not end (Session::move_out).
  void move_out(Session& session);
  // Takes `session` out of the index; it is freed by the next collect().
  void retire(Session& session);
  // Frees retired sessions. Call where no session is on the call stack.
  void collect();
  // Ends every session with `condition` (system-shutdown on SIGTERM).
  void end_all(Condition condition);

  // BOSH sessions in the index.
  std::size_t size() const { return size_; }
  // Every session in the index, in no particular order (an upgrade's walk).
  std::vector<Session*> live() const;
  // The sessions of both transports, for the caps (max_sessions, max_sessions_per_ip).
  const engine::SessionCounts& counts() const { return counts_; }
  // Requests held by all live BOSH sessions: a walk over every session, for a
  // once-a-second metrics sample, not for hot paths.
  std::size_t held_requests() const;
  std::size_t retired_count() const { return retired_.size(); }
  // One shared copy of `target` for the sessions that name the same server and
  // stream attributes (nearly all of them): a target is ~170 bytes of strings.
  // Consecutive equal targets share; the copy lives as long as a session uses it.
  base::LocalShared<engine::UpstreamTarget> share_target(engine::UpstreamTarget&& target);
  // The same for the negotiated BOSH version ("1.6", "1.11", ...).
  base::LocalShared<std::string> share_version(std::string&& ver);
  const EngineSettings& settings() const { return settings_; }
  // Who hears about sessions created and ended (may be null).
  void set_events(engine::EngineEvents* events) { events_ = events; }
  engine::EngineEvents* events() const { return events_; }
  // Who hears of every change (may be null; one at a time).
  void set_watcher(SessionWatcher* watcher) { watcher_ = watcher; }
  // Session's call, after a change.
  void changed(Session& session) {
    if (watcher_ != nullptr) watcher_->session_changed(session);
  }
  base::TimerWheel& timers() const { return timers_; }

 private:
  const EngineSettings& settings_;
  base::TimerWheel& timers_;
  engine::SessionCounts& counts_;
  engine::EngineEvents* events_ = nullptr;
  SessionWatcher* watcher_ = nullptr;
  std::size_t bucket_index(std::string_view sid) const;
  Session** bucket_of(std::string_view sid);
  void grow_index();
  // Out of the index and the counts, to be freed by collect(); `ended`: tell
  // the events.
  void unindex(Session& session, bool ended);
  template <typename F>
  void for_each_live(F&& f) const;

  std::vector<Session*> buckets_;  // a power of two of chains, or empty
  std::size_t size_ = 0;
  std::vector<std::unique_ptr<Session>> retired_;
  base::LocalShared<engine::UpstreamTarget> last_target_;
  base::LocalShared<std::string> last_version_;
};

}  // namespace sb::bosh
