// BoshTransport: the BOSH half of a simulated browser, scheduling requests the way
// Strophe.js does (XEP-0124 with the XEP-0206 XMPP binding):
//
// - one request is held by the server as the long poll (hold='1');
// - an empty poll is sent only when nothing else is outstanding;
// - stanzas go out in a new request beside the held one, at most `requests` (the
//   server's answer, 2 with hold 1) outstanding, else they wait in the queue and
//   leave together in the next request;
// - answers are processed in rid order, whatever connection they arrive on;
// - a request whose connection broke (or that --drop cut) is sent again with the
//   SAME rid and body on a new connection, which the connection manager must
//   answer from its buffer of sent answers (XEP-0124 §14.3);
// - connections: a request takes an idle open connection, else opens one; a
//   connection left idle beside another closes after --conn-idle ms, so an idle
//   session holds one socket, as a browser's keep-alive pool does;
// - a session creation refused with HTTP 5xx (a login storm's 503) is sent again,
//   the same rid and body, on the schedule of the client --retry-as plays, until
//   that client would give up (refusal.hpp).
#pragma once

#include <array>
#include <cstdint>
#include <memory>
#include <string>
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

  std::string debug_state() const override;
  const std::string& sid() const { return sid_; }

 private:
  static constexpr std::size_t kMaxConnections = 3;
  static constexpr unsigned kMaxTries = 4;
  enum class State : std::uint8_t { kNew, kCreating, kOpen, kClosing, kEnded };
  enum class Kind : std::uint8_t { kCreate, kNormal, kTerminate };

  struct Pending {
    std::uint64_t rid = 0;
    std::string body;
    HttpConnection* conn = nullptr;
    std::string answer;
    Kind kind = Kind::kNormal;
    std::uint8_t tries = 0;
    bool answered = false;
  };

  // HttpOwner
  void on_response(HttpConnection& conn, int status, std::string_view body) override;
  void on_failure(HttpConnection& conn, const char* kind) override;
  void on_idle_closed(HttpConnection& conn) override;
  bool is_spare(const HttpConnection& conn) const override;

  void pump();
  void issue(std::string body, Kind kind);
  void transmit(Pending& p, std::uint64_t later_ms = 0);
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
  std::string queue_;          // stanzas waiting for a request slot
  std::string last_;           // sent with the terminate
  std::vector<Pending> pending_;  // in rid order
  std::array<std::unique_ptr<HttpConnection>, kMaxConnections> conns_;
  std::uint64_t next_rid_ = 0;
  std::uint32_t wait_s_ = 60;
  std::uint8_t requests_ = 2;
  std::uint32_t refusals_ = 0;  // of the session creation (refusal.hpp)
  State state_ = State::kNew;
  bool restart_pending_ = false;
  bool close_pending_ = false;
};

}  // namespace sb::soak
