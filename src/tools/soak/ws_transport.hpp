// WsTransport: the WebSocket half of a simulated browser (RFC 7395, XMPP over
// RFC 6455 WebSocket), beside BoshTransport behind the same Transport interface,
// so the login, chat and accounting of XmppClient and the Runner are the same for
// both transports.
//
// One TCP connection per session for its whole life: the RFC 6455 opening
// handshake with the `xmpp` subprotocol (the Sec-WebSocket-Accept checked), then
// `<open/>` (urn:ietf:params:xml:ns:xmpp-framing), one masked text frame per
// stanza, a new `<open/>` on the same connection for the restart after SASL, and
// `<close/>` followed by the closing handshake at the end. Server pings get a
// pong; each server text frame is parsed as one element and handed on.
//
// --drop P: WebSocket has no resume (nothing like BOSH's rid replay), so a cut is
// the end of that session. Each session is cut with probability P, once, at a
// random moment between its login and the end of the run phase, abruptly (no close frame; what a dead mobile link
// does), and reported as ended by "drop": not an error, counted in
// sessions_ended, and the messages still in flight to or from it are counted as
// cut off (the Runner writes them off in the Ledger) rather than lost.
//
// A refused upgrade (HTTP 5xx: a login storm's 503) is tried again on a new
// connection on the schedule of the client --retry-as plays (refusal.hpp); the
// default, Converse in Chromium, never gives up.
//
// Memory while idle: this object and its TcpStream; the handshake's parser and
// the frame reader's buffers exist only while they are in use.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "base/timer_wheel.hpp"
#include "net/tcp_stream.hpp"
#include "tools/soak/dial.hpp"
#include "tools/soak/transport.hpp"
#include "tools/soak/ws_frames.hpp"

namespace sb::soak {

struct Env;

class WsTransport final : public Transport, private net::StreamHandler, private WsFrameSink {
 public:
  // Initializes OpenSSL's digests (its first use maps ~2.4 MB of providers and
  // tables), once, before the generator takes its memory baseline, so that the
  // idle figure per session does not carry it.
  static void warm_up();

  WsTransport(Env& env, TransportEvents* events);
  ~WsTransport() override;
  WsTransport(const WsTransport&) = delete;
  WsTransport& operator=(const WsTransport&) = delete;

  void open() override;
  void send(std::string stanza) override;
  void restart() override;
  void close(std::string last) override;
  void on_online() override;
  unsigned outstanding() const override { return 0; }
  unsigned refusals() const override { return refusals_; }
  std::string debug_state() const override;

 private:
  enum class State : std::uint8_t {
    kNew,
    kConnecting,
    kHandshake,
    kRetrying,
    kOpening,
    kOpen,
    kClosing,
    kEnded
  };
  struct Handshake;

  static void on_connect(void* self, int status);
  static void on_timer(base::TimerNode& node);

  // net::StreamHandler
  void on_read(net::TcpStream& stream, std::string_view bytes) override;
  void on_read_end(net::TcpStream& stream, int status) override;
  void on_write_error(net::TcpStream& stream, int status) override;
  void on_closed(net::TcpStream& stream) override;
  // WsFrameSink
  void on_ws_text(std::string_view text) override;
  void on_ws_ping(std::string_view payload) override;
  void on_ws_close(std::uint16_t code) override;

  void connect();
  void refused(int status, std::int32_t retry_after_s);
  void read_handshake(std::string_view bytes);
  void read_frames(std::string_view bytes);
  void send_open();
  void write_frame(WsOpcode opcode, std::string_view payload);
  void arm(std::uint64_t at_ms);
  void end(std::string_view error);
  void drop_stream();

  Env& env_;
  TransportEvents* events_;
  net::TcpStream* stream_ = nullptr;
  Dial* connecting_ = nullptr;
  std::unique_ptr<Handshake> handshake_;  // only until the 101 is read
  std::vector<std::string> queue_;        // stanzas sent before the stream opened
  WsFrameReader reader_;
  base::OwnedTimerNode timer_{on_timer, this};
  std::uint64_t cut_at_ms_ = 0;  // --drop: when this session's connection is cut (0: never)
  std::uint32_t refusals_ = 0;   // refused upgrades of this login
  State state_ = State::kNew;
  bool close_sent_ = false;  // our close frame is out
};

}  // namespace sb::soak
