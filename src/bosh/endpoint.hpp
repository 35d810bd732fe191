// Endpoint: the BOSH path's http::Handler. It parses each POSTed <body/>, finds the
// session it names (or creates one), turns the body into a ClientRequest and hands
// it over. Requests that cannot name a live session are answered here: HTTP 400
// for a body that is not a BOSH body at all, a terminal <body/> otherwise.
#pragma once

#include <cstdint>
#include <deque>
#include <optional>
#include <string>
#include <string_view>

#include "bosh/condition.hpp"
#include "bosh/settings.hpp"
#include "engine/creation_gate.hpp"
#include "engine/engine_events.hpp"
#include "engine/login_gate.hpp"
#include "http/exchange.hpp"

namespace sb::xml {
struct BoshBody;
}
namespace sb::engine {
class UpstreamFactory;
}

namespace sb::bosh {

class SessionTable;

struct EndpointCounters {
  std::uint64_t sessions_created = 0;
  std::uint64_t bad_requests = 0;  // not XML, not a body, bad rid
  std::uint64_t unknown_sids = 0;
  std::uint64_t lost_sids = 0;          // of them, sessions a crashed daemon had (LostSids)
  std::uint64_t refused_creations = 0;  // host-unknown, improper-addressing, caps
  std::uint64_t refused_no_room = 0;    // of those: 503 because the gate said no room
  std::uint64_t refused_overload = 0;   // of those: 503 because the login gate said overload
  std::uint64_t queued = 0;             // creations that waited their turn (LoginGate::kQueue)
  std::uint64_t redirected = 0;         // creations the gate took to another worker
};

// Sids of sessions that ended in a crash of the whole daemon (app/keeper's
// journal, docs/crash.md): a request for one is answered remote-connection-failed
// (the session existed, and lost its server connection) instead of
// item-not-found (no such session was ever known).
class LostSids {
 public:
  virtual bool lost(std::string_view sid) const = 0;

 protected:
  ~LostSids() = default;
};

// Hook for a node running several worker processes (app/handover.hpp): a sid
// this worker does not know may name another worker as its owner in its prefix.
// route() either takes the request away (hands its connection to the owner, or
// answers it) and returns true, or returns false and the endpoint answers
// item-not-found as usual.
class ForeignSidRouter {
 public:
  virtual bool route(std::string_view sid, http::Request& request, http::Exchange& exchange) = 0;

 protected:
  ~ForeignSidRouter() = default;
};

class Endpoint final : public http::Handler, private http::ExchangeWatcher {
 public:
  // A creation waits its turn at most this long (LoginGate::kQueue), then gets 503.
  static constexpr std::uint64_t kMaxQueuedMs = 10'000;

  Endpoint(SessionTable& table, engine::UpstreamFactory& upstreams);
  void handle(http::Request& request, http::Exchange& exchange) override;
  const EndpointCounters& counters() const { return counters_; }
  // Asked about unknown sids before item-not-found; null (the default) = nobody.
  void set_foreign_sid_router(ForeignSidRouter* router) { foreign_sids_ = router; }
  void set_lost_sids(const LostSids* lost) { lost_sids_ = lost; }
  // Asked before each creation; null (the default) = always room.
  void set_creation_gate(engine::CreationGate* gate) { gate_ = gate; }
  // Asked before each creation that has room; null (the default) = never overloaded.
  void set_login_gate(engine::LoginGate* gate);
  // Creations waiting their turn (LoginGate::kQueue).
  std::size_t queued() const { return queue_.size(); }
  // From now on session creation is answered with system-shutdown.
  // Creations still queued get system-shutdown now.
  void refuse_new_sessions();

 private:
  void create_session(xml::BoshBody& body, std::uint64_t rid, http::Request& request,
                      http::Exchange& exchange);
  void refused(std::string_view peer, engine::Refusal refusal, std::string_view reason) const;
  void refuse_overloaded(const std::string& peer, http::Exchange& exchange,
                         std::uint32_t retry_after_s);
  // Starts the queued creations whose turn has come; answers 503 to those that
  // waited kMaxQueuedMs.
  void drain_queue();
  // http::ExchangeWatcher: a queued creation's connection went away.
  void exchange_lost(http::Exchange& exchange) override;

  // A creation waiting its turn: the request as it came (re-dispatched when
  // admitted) and the exchange to answer, null once its connection is gone.
  struct Queued {
    http::Request request;
    http::Exchange* exchange = nullptr;
    std::uint64_t since_ms = 0;
    bool legacy = false;  // no `ver`: told in HTTP error codes (§16)
  };

  SessionTable& table_;
  engine::UpstreamFactory& upstreams_;
  EndpointCounters counters_;
  ForeignSidRouter* foreign_sids_ = nullptr;
  const LostSids* lost_sids_ = nullptr;
  engine::CreationGate* gate_ = nullptr;
  engine::LoginGate* login_gate_ = nullptr;
  std::deque<Queued> queue_;
  bool admitting_queued_ = false;  // a queued creation is being dispatched: admitted already
  bool shutting_down_ = false;
};

// Parses a rid attribute: decimal digits only, 1 .. 2^53-1.
std::optional<std::uint64_t> parse_rid(std::string_view text);
// Parses a small non-negative decimal (wait, hold, pause); nullopt if malformed.
std::optional<std::uint32_t> parse_seconds(std::string_view text);
// "1.6" vs "1.11": compares major.minor as integers; returns the lower, or "" if
// `client` is not a version.
std::string negotiate_version(std::string_view client, std::string_view ours);

}  // namespace sb::bosh
