// Session: one BOSH session, the heart of the connection manager.
//
// It owns the rid window (requests are processed strictly in rid order; early ones
// wait in `Rare::early` until the gap fills), the held requests (answered oldest first:
// as soon as the server sends something, when more than `hold` are held, or with an
// empty <body/> after `wait`), the outbox of server bytes waiting for a request,
// the cache of recent responses (a repeated rid gets the same bytes again), and
// one timer that serves both the oldest held request's wait and the inactivity
// deadline. It talks to the server through an Upstream and answers clients through
// http::Exchange, so it can be driven entirely in memory.
//
// A Session never deletes itself: when it ends it asks its SessionTable to retire
// it, and the table frees it at a safe point (never inside one of its callbacks).
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "base/inline_text.hpp"
#include "base/local_shared.hpp"
#include "base/object_pool.hpp"
#include "base/small_vector.hpp"
#include "base/timer_wheel.hpp"
#include "bosh/client_request.hpp"
#include "bosh/condition.hpp"
#include "bosh/key_chain.hpp"
#include "bosh/response_cache.hpp"
#include "bosh/session_record.hpp"
#include "engine/upstream.hpp"
#include "http/exchange.hpp"

namespace sb::bosh {

class SessionTable;
struct EngineSettings;

// The negotiated parameters of a session (the creation response's values).
struct SessionParams {
  std::uint32_t wait = 60;
  std::uint32_t hold = 1;
  std::uint32_t inactivity = 60;
  std::uint32_t polling = 2;
  std::uint32_t maxpause = 120;
  bool acks = false;  // the client sent ack='1': acknowledgements both ways (§9)
  // The negotiated version, shared by the sessions that agreed on the same one
  // (SessionTable::share_version). Null: a legacy client, errors go out as HTTP
  // status codes.
  base::LocalShared<std::string> ver;
  bool legacy() const { return ver == nullptr; }
  std::uint32_t requests() const { return hold + 1; }
};

// The Session is its own timer node (a base, not a member: the callback gets the
// session back with a cast, and the node needs no owner pointer).
class Session final : public engine::UpstreamEvents,
                      public http::ExchangeWatcher,
                      public base::Pooled<Session>,
                      private base::TimerNode {
 public:
  enum class State : std::uint8_t {
    kOpening,  // upstream connecting; the creation request waits for features
    kOpen,
    kEnded,  // over; a terminal body may still wait for the next request
  };

  // `target` is shared: sessions for the same server and domain hold one copy
  // (SessionTable::share_target).
  Session(SessionTable& table, std::string sid, SessionParams params,
          base::LocalShared<engine::UpstreamTarget> target, std::uint64_t creation_rid,
          std::string content_type);
  Session(const Session&) = delete;
  Session& operator=(const Session&) = delete;
  ~Session();

  // Starts the session: opens the upstream and holds the creation request.
  void start(engine::UpstreamFactory& factory, http::Exchange& creation);
  // A request naming this session.
  void handle(ClientRequest&& request, http::Exchange& exchange);
  // Ends the session from outside (shutdown): held requests get the condition.
  void end(Condition condition);

  // Moving a session to another process (session_record.hpp). record() is the
  // session as plain data, the session itself untouched; call it between events.
  SessionRecord record() const;
  // The session leaves this process (its record was taken): its client
  // exchanges are let go unanswered and its server link is handed to the caller,
  // since their sockets travel with the record; the table lets it go without an
  // end event. Returns what must travel with the record.
  struct Departure {
    std::unique_ptr<engine::Upstream> upstream;  // null if it had none
    std::vector<http::Exchange*> exchanges;      // in the record's order
  };
  Departure move_out();
  // A session rebuilt from a record, not yet indexed (SessionTable::restore).
  static std::unique_ptr<Session> from_record(SessionTable& table, SessionRecord&& record);
  // Takes up the sockets that travelled with the record: the server link (null
  // when the record had none; its events must already name this session) and the
  // client exchanges, as many as SessionRecord::connections(), in its order.
  void resume(std::unique_ptr<engine::Upstream> upstream,
              const std::vector<http::Exchange*>& exchanges);
  // Before moving: the client exchanges that would travel, in the record's order
  // (connected held requests, then early ones), and the server link (null when
  // there is none or it is dead).
  std::vector<http::Exchange*> exchanges() const;
  engine::Upstream* live_upstream() const { return upstream_dead_ ? nullptr : upstream_.get(); }
  // Before moving, for connections that cannot move (TLS): every held request
  // is answered now, empty, as its wait would have, and its connection closes
  // after the answer, so the client's next request comes on a new connection.
  void let_held_requests_go();
  // Before moving: every held request whose wait ends within `ms` is answered
  // now, as its wait would (the move holds the loop still for a moment, which
  // must not push an answer past the client's own timeout). The connections
  // stay open. True if any was.
  bool answer_held_due_within(std::uint64_t ms);
  const engine::UpstreamTarget& target() const { return *target_; }

  std::string_view sid() const { return sid_.view(); }
  // The client address that created the session, kept only while a per-address
  // cap is set (empty otherwise): it is the SessionTable's count key, not a copy.
  std::string_view peer() const {
    return peer_ != nullptr ? std::string_view(*peer_) : std::string_view();
  }
  const std::string* peer_key() const { return peer_; }
  void set_peer_key(const std::string* key) { peer_ = key; }
  // Key sequencing: the creation request's newkey.
  void start_key_chain(std::string_view newkey) {
    if (newkey.empty()) return;
    rare().keys = std::make_unique<KeyChain>();
    rare_->keys->start(newkey);
  }
  std::size_t cached_responses() const { return cache_.size(); }
  // Two bits the table's SessionWatcher keeps in the session, so that it needs
  // no set of its own: `marked`, the session changed since the watcher last
  // looked; `kept`, the watcher's copy holds the session's server socket.
  bool watch_marked() const { return watch_marked_; }
  void set_watch_marked(bool on) { watch_marked_ = on; }
  bool watch_kept() const { return watch_kept_; }
  void set_watch_kept(bool on) { watch_kept_ = on; }
  State state() const { return state_; }
  // Why the session ended (valid once retired): what the client was told and why.
  Condition end_condition() const { return end_condition_; }
  std::string_view end_reason() const { return end_reason_; }
  const SessionParams& params() const { return params_; }
  std::size_t held_count() const { return held_.size(); }
  std::size_t outbox_bytes() const { return outbox_ ? outbox_->size() : 0; }

  // UpstreamEvents
  void upstream_opened(const engine::StreamHeader& header) override;
  void upstream_stanza(std::string&& stanza) override;
  void upstream_batch_end() override;
  void upstream_closed(engine::UpstreamEnd end, std::string&& detail) override;
  // The creating client's address; known when the table keeps per-address counts
  // (EngineSettings::track_peers).
  std::string_view client_address() const override { return peer(); }
  // http::ExchangeWatcher
  void exchange_lost(http::Exchange& exchange) override;

 private:
  friend class SessionTable;  // links index_next_
  // A request waiting for its answer. Its exchange is null once the client's
  // connection dropped: the request keeps its place in rid order so that the
  // client's resend of that rid (Strophe resends after a network error) takes it
  // up again, instead of finding a rid that is neither held nor answered.
  struct Held {
    http::Exchange* exchange;
    std::uint64_t rid;
    std::uint64_t deadline_ms;
    std::uint64_t lost_ms;  // when the exchange was lost, 0 while connected
  };
  struct Early {  // a request that arrived before the rids below it
    http::Exchange* exchange;
    ClientRequest request;
  };
  // What few sessions ever use, in one block allocated on first use and kept
  // until the session ends: an idle session pays one pointer for it (8 bytes
  // instead of 64 inline).
  struct Rare {
    std::string content_type;        // the client's `content` when not the default
    std::vector<Early> early;        // requests that arrived before the rids below them
    std::unique_ptr<KeyChain> keys;  // key sequencing (§15), when the client asked
    std::uint64_t report_rid = 0;    // a response the client missed (§9.3), 0 = none
    std::uint64_t report_ms = 0;     // how long ago it was sent
  };
  Rare& rare() {
    if (!rare_) rare_ = std::make_unique<Rare>();
    return *rare_;
  }
  bool has_early() const { return rare_ && !rare_->early.empty(); }
  std::size_t early_count() const { return rare_ ? rare_->early.size() : 0; }
  KeyChain* keys() const { return rare_ ? rare_->keys.get() : nullptr; }
  std::uint64_t report_rid() const { return rare_ ? rare_->report_rid : 0; }

  bool overactive(const ClientRequest& request) const;
  bool replace_early(ClientRequest&& request, http::Exchange& exchange);
  void take_acks(const ClientRequest& request);
  void process(ClientRequest&& request, http::Exchange& exchange);
  void process_early();
  void hold(http::Exchange& exchange, std::uint64_t rid);
  void answer_oldest(bool with_payload);
  // Answers held requests with the outbox as soon as a connected one can take it.
  void deliver();
  void answer_repeat(std::uint64_t rid, http::Exchange& exchange);
  std::string take_response(std::uint64_t rid, bool with_payload);
  void send(http::Exchange& exchange, std::uint64_t rid, std::string body, bool cache);
  http::SharedBody cache_response(std::uint64_t rid, std::string body);
  void send_terminal(http::Exchange& exchange, Condition condition);
  void send_recoverable_error(http::Exchange& exchange);
  void send_end(http::Exchange& exchange, std::uint64_t rid, std::string terminal);
  void release_exchanges(Condition condition);
  std::string_view content_type() const;
  std::string_view outbox() const {
    return outbox_ ? std::string_view(*outbox_) : std::string_view();
  }
  std::string take_outbox();  // the outbox's bytes; leaves it empty (null)
  void end_by_client(http::Exchange& exchange, std::uint64_t rid);
  // Every end goes through here: the state, what the client is told and why,
  // and the server stream closed. False if the session had ended already.
  bool mark_ended(Condition condition, const char* reason);
  // The last step of an end told now: the requests still waiting hear
  // `condition`, and the table retires the session.
  void release_and_retire(Condition condition);
  // Ends the session; the oldest held request (or else the next request) hears why.
  void finish(Condition condition, std::string&& detail, const char* reason);
  // Ends the session at once (the culprit, if any, was answered already);
  // waiting requests hear why.
  void abort(Condition condition, const char* reason);
  void close_upstream();
  void rearm_timer();
  static void on_timer(base::TimerNode& node);
  base::TimerWheel& timers() const;

  SessionTable& table_;
  Session* index_next_ = nullptr;  // the next session in its SessionTable bucket
  base::InlineText sid_;
  const std::string* peer_ = nullptr;  // a key of SessionTable::per_peer_, or null
  SessionParams params_;
  base::LocalShared<engine::UpstreamTarget> target_;  // never null
  std::unique_ptr<engine::Upstream> upstream_;
  // The server's stream header (authid, from, version), needed only for the
  // creation response: freed once that is sent.
  std::unique_ptr<engine::StreamHeader> server_;

  std::uint64_t creation_rid_;
  std::uint64_t last_rid_;  // the highest rid processed; the window starts above it
  std::uint64_t inactivity_deadline_ms_ = 0;  // when a session with nothing held ends
  // An idle session holds one request (hold=1): inline. A second one for a
  // moment (a stanza sent beside the long poll) spills to the heap and back.
  base::SmallVector<Held, 1> held_;
  std::unique_ptr<Rare> rare_;
  std::uint64_t last_arrival_ms_ = 0;  // of the last new request (overactivity)
  // Server bytes waiting for a request; once State::kEnded, the terminal body the
  // next request gets. Null when empty: most of the time an idle session's
  // outbox is, and a pointer is 24 bytes smaller than an empty std::string.
  std::unique_ptr<std::string> outbox_;
  const char* end_reason_ = "";  // a static string, for the log
  // The last `requests` responses, oldest first; with acks, every response the
  // client has not acknowledged. Its byte count is its last field: with
  // [[no_unique_address]] the state and the flags below go into the 4 bytes of
  // padding behind it (the flags are bits: as bytes they made the Session 8
  // bytes bigger).
  [[no_unique_address]] ResponseCache cache_;
  State state_ = State::kOpening;
  Condition end_condition_ = Condition::kNone;
  bool data_ready_ : 1 = false;           // stanzas arrived since the last batch end
  bool last_was_empty_poll_ : 1 = false;  // the previous new request was an empty poll
  bool last_response_empty_ : 1 = false;  // the previous response carried nothing
  bool upstream_dead_ : 1 = false;        // closed, or closing on its own: never call it again
  bool watch_marked_ : 1 = false;         // the table's watcher's marks (watch_mark)
  bool watch_kept_ : 1 = false;
};

}  // namespace sb::bosh
