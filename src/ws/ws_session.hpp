// WsSession: one XMPP-over-WebSocket connection (RFC 7395) after its handshake, as a
// socket-free engine like bosh::Session. A WebSocket session is simply its
// connection: no rid window, no held requests, no response cache, no hand-over.
//
// The glue feeds it the connection's bytes (feed(), unmasked in place) and gives it a
// WsOutput to write frames to. It opens its server stream through the same
// engine::UpstreamFactory as BOSH, with the route the same routing function gives for
// the client's `to`, and hears the server back as an engine::UpstreamEvents. It asks
// for StanzaFraming::kWebSocket: each server element comes ready to be a message of
// its own, and goes out as it came.
//
//   kAwaitingOpen    the client's <open/> is due; anything else is a stream error
//        | <open to=...>: route, UpstreamFactory::open
//   kUpstreamOpening stanzas from the client go on to the Upstream (it queues them)
//        | upstream_opened: our <open/> to the client
//   kOpen            stanzas both ways, one per frame
//        | a new client <open/> (after SASL success): Upstream::restart
//   kRestarting      until the server's new header: our new <open/>, back to kOpen
//   kClosing         our <close/> and close frame are out; waiting for the client's
//                    close frame (or the socket's end)
//   kClosed          WsOutput::close() was called; nothing more is written
//
// Closing (RFC 7395 §3.6): whoever ends the XMPP stream sends <close/>; we then start
// the WebSocket closing handshake with code 1000. A server <stream:error> goes to the
// client first, then <close/>, then the close frame (§3.5); a client message that is
// not one well-formed element gets a stream error the same way. WebSocket-level
// faults (bad frames 1002, binary 1003, not UTF-8 1007, too big 1009) get only the
// close frame. A client close frame ends at once: the upstream stream is closed with
// </stream:stream> and our close frame echoes the client's.
//
// Pings from the client are answered with a pong carrying the same payload; pongs
// are ignored. Keep-alive pings from our side and the timeout of a silent client
// belong to the glue, which owns the connection's timer node: it can write a
// ping_frame() through the same WsOutput, and any bytes fed show the client lives.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "engine/upstream.hpp"
#include "ws/close_code.hpp"
#include "ws/frame_parser.hpp"
#include "ws/ws_record.hpp"

namespace sb::ws {

// Where a session's frames go. Both views are valid only during the call: the glue
// writes them (writev) or copies what the kernel does not take at once.
class WsOutput {
 public:
  virtual void write(std::string_view header, std::string_view payload) = 0;
  // No more writes: flush, then close the socket. Called once, after the last write.
  virtual void close() = 0;
  // Bytes written but not yet taken by the kernel.
  virtual std::size_t queued_bytes() const = 0;
  // Our close frame is out and the client's is awaited (kClosing): the glue bounds
  // that wait. Not called when the session closes at once (close()).
  virtual void awaiting_close() {}
  // A text message from the client was read, or one went to it: for counting.
  virtual void message_in() {}
  virtual void message_out() {}
  // A read from the server link starts: the frames written until release_writes()
  // may be held and written together then.
  virtual void hold_writes() {}
  virtual void release_writes() {}
  // The server link read bytes (a stanza, or part of one): where the session
  // stands in the server's stream moved.
  virtual void upstream_read() {}
  // The client's address ("192.0.2.7"), for a PROXY protocol header towards the
  // server (upstream_proxy_protocol); empty if the glue does not keep it.
  virtual std::string_view client_address() const { return {}; }

 protected:
  ~WsOutput() = default;
};

// The routing the BOSH endpoint uses (domains, default upstream, allowed_routes),
// injected so both transports share it. nullopt: no server for this domain.
using RouteFunction = std::function<std::optional<engine::UpstreamTarget>(std::string_view to)>;

// Shared by every WebSocket session of a worker (one copy, not one per session).
struct WsContext {
  engine::UpstreamFactory& factory;
  RouteFunction route;
  std::size_t max_message_bytes = 1 << 16;  // a client message (max_stanza_bytes)
  std::size_t max_unsent_bytes = 1 << 20;   // output backlog before we give up
};

class WsSession final : public engine::UpstreamEvents, private FrameSink {
 public:
  enum class State : std::uint8_t {
    kAwaitingOpen,
    kUpstreamOpening,
    kOpen,
    kRestarting,
    kClosing,
    kClosed,
  };

  WsSession(WsContext& context, WsOutput& output);
  WsSession(const WsSession&) = delete;
  WsSession& operator=(const WsSession&) = delete;
  ~WsSession();

  // Bytes from the client (unmasked in place).
  void feed(char* data, std::size_t size);
  // The socket is gone (read error, EOF, linger timeout, a silent client): the
  // upstream is closed, and the output is never touched again (no write, no
  // close()). `reason` becomes end_reason() unless one was set before.
  void connection_lost(std::string_view reason = "client connection lost");
  // The worker shuts down: <close/>, close frame 1001 (going away).
  void shutdown();
  // Before any <open/>: this connection may not have a stream (a per-address cap
  // was reached when it was upgraded). Its <open/> is answered with our <open/>
  // and a policy-violation stream error (RFC 7395 §3.5), as BOSH answers a creation.
  void refuse_streams() { refuse_streams_ = true; }

  // Moving the connection to another process (ws_record.hpp). movable(): the
  // stream is open, its server link alive, no close under way. record() fills
  // the session's part (names, our <open/>, the parser); the glue adds its own.
  bool movable() const;
  void record(WsRecord& record) const;
  engine::Upstream* live_upstream() const { return upstream_dead_ ? nullptr : upstream_.get(); }
  // The session leaves: its server link goes to the caller (its socket moved)
  // and the session is closed without a word to either side.
  std::unique_ptr<engine::Upstream> move_out();
  // A new session put where `record` left one: open, its parser where it was.
  // The server link follows (resume()). False, with the reason, for a record no
  // session could have left (the session is closed then).
  bool take_up(const WsRecord& record, std::string& error);
  // The server link that travelled with the record (its events name this session).
  void resume(std::unique_ptr<engine::Upstream> upstream);

  State state() const { return state_; }
  WsContext& context() const { return context_; }
  // The domain the client's <open/> named ("" before it).
  std::string_view to() const { return std::string_view(names_).substr(0, names_.find('\0')); }
  // Why the session ended ("" while it lives), and the close code we sent.
  std::string_view end_reason() const { return end_reason_; }
  CloseCode close_code() const { return close_code_; }
  // Heap held now besides the object itself (the frame parser's buffers).
  std::size_t buffered_bytes() const { return parser_.buffered_bytes(); }

  // engine::UpstreamEvents
  void upstream_opened(const engine::StreamHeader& header) override;
  void upstream_stanza(std::string&& stanza) override;
  void upstream_batch_begin() override {
    if (state_ != State::kClosed) output_.hold_writes();
  }
  // Held frames go out even if the session closed meanwhile (its close frame is
  // among them).
  void upstream_batch_end() override {
    output_.release_writes();
    if (state_ != State::kClosed) output_.upstream_read();
  }
  void upstream_closed(engine::UpstreamEnd end, std::string&& detail) override;
  std::string_view client_address() const override { return output_.client_address(); }

 private:
  // What upstream_closed() tells the client (before the held frames go out).
  void tell_closed(engine::UpstreamEnd end, std::string&& detail);
  // FrameSink
  void text_message(std::string_view message) override;
  void ping(std::string_view payload) override;
  void pong(std::string_view) override {}
  void close_received(std::uint16_t code, std::string_view reason) override;
  void frame_error(CloseCode code, std::string_view what) override;

  void client_open(engine::UpstreamTarget&& requested);
  void send_text(std::string_view payload);
  void send_control(Opcode opcode, std::string_view payload);
  // XMPP-level end: [<open/> if none was sent] [error] <close/>, close frame 1000.
  void end_stream(std::string_view error_element, std::string_view reason,
                  CloseCode code = CloseCode::kNormal);
  // Close frame (if none sent yet), then WsOutput::close().
  void finish(CloseCode code, std::string_view reason);
  void close_upstream();
  std::string_view lang() const;
  void set_names(std::string_view to, std::string_view lang);

  WsContext& context_;
  WsOutput& output_;
  std::unique_ptr<engine::Upstream> upstream_;
  // The client's `to` (kept for a restart), a NUL, then its xml:lang (echoed in our
  // <open/>): one string, not two, saves 32 bytes per session (neither may hold a
  // NUL: XML cannot).
  std::string names_;
  // Why the session ended, for the log. Only ever a string literal (static
  // storage): set from literals, or from a `reason` parameter whose callers all
  // pass literals; a view of anything shorter-lived would dangle here.
  std::string_view end_reason_;
  FrameParser parser_;
  CloseCode close_code_ = CloseCode::kNone;
  State state_ = State::kAwaitingOpen;
  bool upstream_dead_ = false;  // it reported its end: destroyed with us, never closed
  bool open_sent_ = false;      // our <open/> went out (a stream error must follow one)
  bool close_frame_sent_ = false;
  bool refuse_streams_ = false;  // refuse_streams(): the <open/> gets policy-violation
};

}  // namespace sb::ws
