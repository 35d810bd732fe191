// XmppClient: one simulated chat user, the XMPP side of a browser client: the
// XEP-0206 login (SASL PLAIN or ANONYMOUS, stream restart, resource bind, the
// legacy session if the server offers it as required, initial presence, the
// roster with --roster), then chat messages out and in. It speaks through a
// Transport (BOSH or WebSocket) and tells its observer (the Runner) when it is online,
// when a chat message arrives and when it has ended.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "tools/soak/transport.hpp"

namespace sb::soak {

struct Env;
class XmppClient;

// The end reason of a session that --drop cut for good (WebSocket has no resume).
inline constexpr std::string_view kDropEnd = "drop";

class ClientObserver {
 public:
  virtual void on_online(XmppClient& client) = 0;
  virtual void on_chat(XmppClient& client, std::string_view body) = 0;
  virtual void on_client_ended(XmppClient& client, std::string_view error) = 0;

 protected:
  ~ClientObserver() = default;
};

class XmppClient final : private TransportEvents {
 public:
  enum class State : std::uint8_t {
    kIdle,
    kOpening,
    kAuth,
    kRestart,
    kBind,
    kSession,
    kRoster,
    kOnline,
    kClosing,
    kEnded
  };

  // `number` is the session's number (for --user-pattern, counted from --first-user);
  // `index` is its place in this process's table.
  XmppClient(Env& env, ClientObserver* observer, std::uint64_t number, std::uint32_t index);
  ~XmppClient();
  XmppClient(const XmppClient&) = delete;
  XmppClient& operator=(const XmppClient&) = delete;

  void start(std::uint64_t intended_ns);
  // A chat message to `to` (a full JID) with `body` as its text.
  void send_chat(const std::string& to, std::string_view body);
  void close();

  State state() const { return state_; }
  bool online() const { return state_ == State::kOnline; }
  const std::string& jid() const { return jid_; }
  std::uint32_t index() const { return index_; }
  std::uint64_t login_started_ns() const { return login_started_ns_; }
  std::string debug_state() const {
    return transport_ ? transport_->debug_state() : std::string("no transport");
  }
  // The stanza being handled came in an answer handled after a newer one (transport.hpp).
  bool in_late_answer() const { return transport_ && transport_->handling_late_answer(); }

 private:
  void on_open() override;
  void on_stanza(const pugi::xml_node& stanza) override;
  void on_ended(std::string_view error) override;

  void on_features(const pugi::xml_node& features);
  void on_iq(const pugi::xml_node& iq);
  void go_online();
  void become_online();
  void fail(std::string_view kind);

  Env& env_;
  ClientObserver* observer_;
  std::unique_ptr<Transport> transport_;
  std::string jid_;  // the bound full JID
  std::uint64_t number_;
  std::uint64_t login_started_ns_ = 0;
  std::uint32_t index_;
  State state_ = State::kIdle;
  bool session_required_ = false;
  bool failed_ = false;  // ended by fail(): the error is counted already
};

// base64 of `in` (RFC 4648, with padding), for SASL.
std::string base64(std::string_view in);

}  // namespace sb::soak
