// Endpoint: the BOSH path's http::Handler. It parses each POSTed <body/>, finds the
// session it names (or creates one), turns the body into a ClientRequest and hands
// it over. Requests that cannot name a live session are answered here: HTTP 400
// for a body that is not a BOSH body at all, a terminal <body/> otherwise.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "bosh/condition.hpp"
#include "bosh/engine_events.hpp"
#include "bosh/settings.hpp"
#include "http/exchange.hpp"

namespace sb::xml {
struct BoshBody;
}

namespace sb::bosh {

class SessionTable;
class UpstreamFactory;
struct UpstreamTarget;

struct EndpointCounters {
  std::uint64_t sessions_created = 0;
  std::uint64_t bad_requests = 0;   // not XML, not a body, bad rid
  std::uint64_t unknown_sids = 0;
  std::uint64_t refused_creations = 0;  // host-unknown, improper-addressing, caps
  std::uint64_t refused_no_room = 0;    // of those: 503 because the gate said no room
  std::uint64_t refused_overload = 0;   // of those: 503 because the login gate said overload
  std::uint64_t redirected = 0;         // creations the gate took to another worker
};

// Asked before every session creation. False means this process has no room for
// another session (app/admission.hpp: its file descriptors). The gate may then
// take the request elsewhere (redirect_new_session: hand its connection to a
// worker with room); if it does not, the request is answered HTTP 503 with
// Retry-After, so the client tries again.
class CreationGate {
 public:
  virtual bool admits_new_session() = 0;
  // True if the gate took `request` (and its connection) away; the endpoint then
  // answers nothing.
  virtual bool redirect_new_session(http::Request& request) = 0;

 protected:
  ~CreationGate() = default;
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

// Hook for overload control (app/login_pacer.hpp), shared by both transports:
// asked before each login starts (a BOSH creation, a WebSocket upgrade).
class LoginGate {
 public:
  // 0: start it now. Otherwise the worker cannot finish it in time: refuse it
  // with HTTP 503 and this many seconds of Retry-After.
  virtual std::uint32_t refuse_login() = 0;

 protected:
  ~LoginGate() = default;
};

class Endpoint final : public http::Handler {
 public:
  Endpoint(SessionTable& table, UpstreamFactory& upstreams);
  void handle(http::Request& request, http::Exchange& exchange) override;
  const EndpointCounters& counters() const { return counters_; }
  // Asked about unknown sids before item-not-found; null (the default) = nobody.
  void set_foreign_sid_router(ForeignSidRouter* router) { foreign_sids_ = router; }
  // Asked before each creation; null (the default) = always room.
  void set_creation_gate(CreationGate* gate) { gate_ = gate; }
  // Asked before each creation that has room; null (the default) = never overloaded.
  void set_login_gate(LoginGate* gate) { login_gate_ = gate; }
  // From now on session creation is answered with system-shutdown.
  void refuse_new_sessions() { shutting_down_ = true; }

 private:
  void create_session(xml::BoshBody& body, std::uint64_t rid, http::Request& request,
                      http::Exchange& exchange);
  void refused(std::string_view peer, Refusal refusal, std::string_view reason) const;

  SessionTable& table_;
  UpstreamFactory& upstreams_;
  EndpointCounters counters_;
  ForeignSidRouter* foreign_sids_ = nullptr;
  CreationGate* gate_ = nullptr;
  LoginGate* login_gate_ = nullptr;
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
