// BoshTransport: the BOSH half of a simulated browser (XEP-0124 with the
// XEP-0206 XMPP binding), scheduling its requests as the client --client plays.
//
// Both profiles:
// - one request is held by the server as the long poll (hold='1');
// - an empty poll is sent only when nothing else is outstanding;
// - stanzas go out in a new request beside the held one, at most 2 (and at most
//   the server's `requests`) outstanding, else they wait in the queue and leave
//   together in the next request;
// - a request whose connection broke (or that --drop cut) is sent again with the
//   SAME rid and body on a new connection, which the connection manager must
//   answer from its buffer of sent answers (XEP-0124 §14.3);
// - connections: a request takes an idle open connection, else opens one; a
//   connection left idle beside another closes after --conn-idle ms, so an idle
//   session holds one socket, as a browser's keep-alive pool does;
// - a session creation refused with HTTP 5xx (a login storm's 503) is sent again,
//   the same rid and body, on the schedule of the client --retry-as plays, until
//   that client would give up (refusal.hpp).
//
// --client strophe (the default) does what Strophe.js 5.0.0's Bosh class does
// (src/transports/bosh.ts: _onIdle, _onRequestStateChange, _hitError,
// _processRequest, _throttledRequestHandler; docs/soak.md, "The Strophe profile"):
// - an answer is handled as soon as it comes, whatever its rid;
// - a failed request (connection error or cut, HTTP 5xx) counts one error and is
//   sent again at once after its first failure, then only after
//   min(floor(1.1 * wait), sends^3) s (8 s, then 11 s with wait 10); meanwhile the
//   next rids go out beside it, up to 2 outstanding, as long as their rid is
//   within the server's `requests` window of the oldest one outstanding (a newer
//   request waits unsent otherwise). A connection manager that has processed such
//   a newer rid must still answer the older one when it comes again;
// - the errors count is reset by every 200; the 5th error in a row ends the
//   session (Strophe's CONNTIMEOUT: "gave_up"), so does a 6th send of one request;
// - a request unanswered floor(1.1 * wait) s after it was sent is abandoned and
//   sent again (same rid, counted as a send, not as an error);
// - a session creation that fails without an answer is sent again like any
//   request. An HTTP 4xx ends the session.
// --client classic (the generator's earlier profile): answers processed in rid
// order; every resend at once, up to 4 tries of a request; a request's answer due
// within wait + 10 s; a session creation that fails without an answer is not
// resent.
#pragma once

#include <array>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "tools/soak/http_connection.hpp"
#include "tools/soak/transport.hpp"

namespace sb::soak {

struct Env;

class BoshTransport final : public Transport, private HttpOwner {
 public:
  BoshTransport(Env& env, TransportEvents* events);
  ~BoshTransport() override;

  void open() override;
  void send(std::string stanza) override;
  void restart() override;
  void close(std::string last) override;
  unsigned outstanding() const override { return static_cast<unsigned>(pending_.size()); }
  unsigned refusals() const override { return refusals_; }
  bool handling_late_answer() const override { return late_answer_; }

  std::string debug_state() const override;
  const std::string& sid() const { return sid_; }

 private:
  static constexpr std::size_t kMaxConnections = 3;
  static constexpr unsigned kMaxTries = 4;  // classic: tries of one request
  static constexpr unsigned kStropheMaxErrors =
      4;  // Strophe gives up beyond this many errors in a row
  static constexpr unsigned kStropheMaxSends = 5;  // ... or beyond this many sends of one request
  enum class State : std::uint8_t { kNew, kCreating, kOpen, kClosing, kEnded };
  enum class Kind : std::uint8_t { kCreate, kNormal, kTerminate };

  struct Pending {
    std::uint64_t rid = 0;
    std::string body;
    HttpConnection* conn = nullptr;
    std::string answer;
    Kind kind = Kind::kNormal;
    std::uint8_t tries = 0;  // classic: failed tries
    std::uint8_t sends = 0;  // strophe: times sent (Strophe's Request.sends)
    bool answered = false;
    bool sent = false;  // strophe: on its way (a newer rid may wait for the window)
  };

  // HttpOwner
  void on_response(HttpConnection& conn, int status, std::string_view body) override;
  void on_failure(HttpConnection& conn, const char* kind) override;
  void on_idle_closed(HttpConnection& conn) override;
  bool is_spare(const HttpConnection& conn) const override;

  bool strophe() const;
  void pump();
  void issue(std::string body, Kind kind);
  void transmit(Pending& p, std::uint64_t later_ms = 0);
  bool within_window(const Pending& p) const;
  void send_waiting();
  void strophe_failure(Pending& p, std::string_view kind, bool counts_error);
  void refused(Pending& p, int status, std::int32_t retry_after_s);
  HttpConnection* pick_connection();
  Pending* find(const HttpConnection& conn);
  void process_answers();
  void handle_answer(const Pending& p);
  void end(std::string_view error);
  std::string body_open(std::uint64_t rid) const;

  Env& env_;
  TransportEvents* events_;
  std::string sid_;
  std::string queue_;             // stanzas waiting for a request slot
  std::string last_;              // sent with the terminate
  std::vector<Pending> pending_;  // in rid order
  std::array<std::unique_ptr<HttpConnection>, kMaxConnections> conns_;
  std::uint64_t next_rid_ = 0;
  std::uint64_t held_until_ms_ = 0;   // strophe: no request written before this, after a --drop cut
  std::uint64_t newest_handled_ = 0;  // strophe: the highest rid whose answer was handled
  std::uint32_t wait_s_ = 60;
  std::uint8_t requests_ = 2;   // outstanding at most: min(server's requests, 2)
  std::uint8_t window_ = 2;     // strophe: the server's `requests` (capped at 255), the rid window
  std::uint8_t errors_ = 0;     // strophe: errors since the last 200
  std::uint32_t refusals_ = 0;  // of the session creation (refusal.hpp)
  State state_ = State::kNew;
  bool restart_pending_ = false;
  bool close_pending_ = false;
  bool late_answer_ = false;  // strophe: handling an answer older than one already handled
};

}  // namespace sb::soak
