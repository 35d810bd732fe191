// The WebSocket session's state machine; see ws_session.hpp.
#include "ws/ws_session.hpp"

#include "ws/frame_writer.hpp"
#include "ws/xmpp_framing.hpp"

namespace sb::ws {

WsSession::WsSession(WsContext& context, WsOutput& output)
    : context_(context), output_(output), parser_(context.max_message_bytes) {}

WsSession::~WsSession() { close_upstream(); }

void WsSession::feed(char* data, std::size_t size) {
  if (state_ == State::kClosed) return;
  parser_.feed(data, size, *this);
}

void WsSession::connection_lost(std::string_view reason) {
  if (state_ == State::kClosed) return;
  close_upstream();
  parser_.stop();
  state_ = State::kClosed;
  if (end_reason_.empty()) end_reason_ = reason;
  // The socket is already gone: the output is never touched again.
}

void WsSession::shutdown() {
  if (state_ == State::kClosing || state_ == State::kClosed) return;
  end_stream({}, "system shutdown", CloseCode::kGoingAway);
}

// ---------------------------------------------------------------------------
// From the client

void WsSession::text_message(std::string_view message) {
  if (state_ == State::kClosing || state_ == State::kClosed) return;  // after our <close/>
  output_.message_in();
  ClientMessage m = read_client_message(message);
  switch (m.kind) {
    case ClientMessage::Kind::kBlank: return;
    case ClientMessage::Kind::kError: end_stream(stream_error(m.condition), m.what); return;
    case ClientMessage::Kind::kClose:
      // The client ends the stream: ours ends too, then the closing handshake.
      end_stream({}, "client close");
      return;
    case ClientMessage::Kind::kOpen: client_open(std::move(m.target)); return;
    case ClientMessage::Kind::kStanza: break;
  }
  if (state_ == State::kAwaitingOpen) {
    end_stream(stream_error("not-authorized"), "a stanza before <open/>");
    return;
  }
  if (upstream_) upstream_->send(m.stanza);
}

void WsSession::client_open(engine::UpstreamTarget&& requested) {
  if (state_ == State::kUpstreamOpening || state_ == State::kRestarting) {
    end_stream(stream_error("invalid-xml"), "<open/> while a stream was opening");
    return;
  }
  if (requested.to.empty()) {
    end_stream(stream_error("host-unknown"), "<open/> without to");
    return;
  }
  if (!requested.version.empty() && requested.version != "1.0") {
    end_stream(stream_error("unsupported-version"), "unsupported stream version");
    return;
  }
  if (state_ == State::kOpen) {
    // A stream restart (RFC 7395 §3.7), after SASL success: same server, same domain.
    if (requested.to != to()) {
      end_stream(stream_error("host-unknown"), "restart to another domain");
      return;
    }
    std::optional<engine::UpstreamTarget> target = context_.route(to());
    if (!target || !upstream_) {
      end_stream(stream_error("host-unknown"), "no route on restart");
      return;
    }
    target->lang = requested.lang;
    target->version = "1.0";
    set_names(requested.to, requested.lang);
    state_ = State::kRestarting;
    upstream_->restart(*target);
    return;
  }
  // kAwaitingOpen: the stream's first <open/>.
  set_names(requested.to, requested.lang);
  if (refuse_streams_) {
    end_stream(stream_error("policy-violation"), "max_sessions_per_ip reached");
    return;
  }
  std::optional<engine::UpstreamTarget> target = context_.route(requested.to);
  if (!target) {
    end_stream(stream_error("host-unknown"), "no route for the domain");
    return;
  }
  target->to = requested.to;
  target->lang = requested.lang;
  target->version = "1.0";
  state_ = State::kUpstreamOpening;
  upstream_ = context_.factory.open(*target, *this, engine::StanzaFraming::kWebSocket);
  if (!upstream_ && state_ == State::kUpstreamOpening) {
    end_stream(stream_error("remote-connection-failed"), "upstream could not be opened");
  }
}

void WsSession::ping(std::string_view payload) { send_control(Opcode::kPong, payload); }

void WsSession::close_received(std::uint16_t code, std::string_view) {
  if (state_ == State::kClosed) return;
  if (end_reason_.empty()) end_reason_ = "client close frame";
  close_upstream();
  // Echo the client's code (RFC 6455 §5.5.1); a close frame without one gets 1000.
  const auto ours = code == 0 ? CloseCode::kNormal : static_cast<CloseCode>(code);
  finish(close_frame_sent_ ? close_code_ : ours, {});
}

void WsSession::frame_error(CloseCode code, std::string_view what) {
  if (state_ == State::kClosed) return;
  if (end_reason_.empty()) end_reason_ = what;
  close_upstream();
  finish(code, {});
}

// ---------------------------------------------------------------------------
// From the server

void WsSession::upstream_opened(const engine::StreamHeader& header) {
  if (state_ != State::kUpstreamOpening && state_ != State::kRestarting) return;
  state_ = State::kOpen;
  open_sent_ = true;
  send_text(server_open(header, lang()));
}

void WsSession::upstream_stanza(std::string&& stanza) {
  if (state_ != State::kOpen && state_ != State::kRestarting) return;
  // Already fixed for a message of its own (StanzaFraming::kWebSocket), and
  // without <starttls/>: the upstream's contract.
  send_text(stanza);
  if (state_ != State::kClosed && !close_frame_sent_ &&
      output_.queued_bytes() > context_.max_unsent_bytes) {
    // The client does not read what the server sends: end rather than buffer.
    end_reason_ = "client does not read (output backlog)";
    close_upstream();
    finish(CloseCode::kPolicyViolation, "output backlog");
  }
}

void WsSession::upstream_closed(engine::UpstreamEnd end, std::string&& detail) {
  upstream_dead_ = true;  // destroyed with the session, never from inside its callback
  tell_closed(end, std::move(detail));
  // A link that ended delivers no batch end: what its read held goes out now.
  output_.release_writes();
}

void WsSession::tell_closed(engine::UpstreamEnd end, std::string&& detail) {
  if (state_ == State::kClosing || state_ == State::kClosed) return;
  // The client is told in RFC 7395 terms: the server's own stream error (fixed for
  // a message of its own, like any element), or ours.
  switch (end) {
    case engine::UpstreamEnd::kStreamError:
      end_stream(detail, "stream error from the server");
      return;
    case engine::UpstreamEnd::kServerClosed: end_stream({}, "the server closed the stream"); return;
    case engine::UpstreamEnd::kFailed: break;
  }
  end_stream(stream_error("remote-connection-failed"), "upstream connection failed");
}

// ---------------------------------------------------------------------------
// Writing and ending

void WsSession::send_text(std::string_view payload) {
  if (close_frame_sent_ || state_ == State::kClosed) return;
  const FrameHeader header = frame_header(Opcode::kText, payload.size());
  output_.write(header.view(), payload);
  output_.message_out();
}

void WsSession::send_control(Opcode opcode, std::string_view payload) {
  if (close_frame_sent_ || state_ == State::kClosed) return;
  payload = payload.substr(0, 125);
  const FrameHeader header = frame_header(opcode, payload.size());
  output_.write(header.view(), payload);
}

void WsSession::end_stream(std::string_view error_element, std::string_view reason,
                           CloseCode code) {
  if (end_reason_.empty()) end_reason_ = reason;
  close_upstream();
  if (!error_element.empty() && !open_sent_) {
    // RFC 7395 §3.5: an error while opening follows our <open/>.
    open_sent_ = true;
    engine::StreamHeader header;
    header.from = std::string(to());
    header.version = "1.0";
    send_text(server_open(header, lang()));
  }
  if (!error_element.empty()) send_text(error_element);
  send_text(close_element());
  const std::string frame = close_frame(code);
  send_control(Opcode::kClose, std::string_view(frame).substr(2));
  close_frame_sent_ = true;
  close_code_ = code;
  state_ = State::kClosing;
  // The client answers with its own close frame (close_received), then we close.
  output_.awaiting_close();
}

void WsSession::finish(CloseCode code, std::string_view reason) {
  if (state_ == State::kClosed) return;
  if (!close_frame_sent_) {
    const std::string frame = close_frame(code, reason);
    send_control(Opcode::kClose, std::string_view(frame).substr(2));
    close_frame_sent_ = true;
    close_code_ = code;
  }
  parser_.stop();
  state_ = State::kClosed;
  output_.close();
}

std::string_view WsSession::lang() const {
  const std::size_t nul = names_.find('\0');
  return nul == std::string::npos ? std::string_view() : std::string_view(names_).substr(nul + 1);
}

void WsSession::set_names(std::string_view to, std::string_view lang) {
  std::string names;
  names.reserve(to.size() + 1 + lang.size());
  names.append(to).push_back('\0');
  names.append(lang);
  names_ = std::move(names);
}

bool WsSession::movable() const {
  return state_ == State::kOpen && upstream_ && !upstream_dead_ && !close_frame_sent_ &&
         !parser_.stopped();
}

void WsSession::record(WsRecord& record) const {
  record.to = std::string(to());
  record.lang = std::string(lang());
  record.open_sent = open_sent_;
  record.parser = parser_.save();
}

std::unique_ptr<engine::Upstream> WsSession::move_out() {
  std::unique_ptr<engine::Upstream> out = std::move(upstream_);
  upstream_dead_ = true;
  state_ = State::kClosed;
  end_reason_ = "moved to another process";
  parser_.stop();
  return out;
}

bool WsSession::take_up(const WsRecord& record, std::string& error) {
  if (!parser_.load(record.parser, error)) {
    state_ = State::kClosed;
    return false;
  }
  set_names(record.to, record.lang);
  open_sent_ = record.open_sent;
  state_ = State::kOpen;
  upstream_dead_ = true;  // until resume()
  return true;
}

void WsSession::resume(std::unique_ptr<engine::Upstream> upstream) {
  if (upstream) {
    upstream_ = std::move(upstream);
    upstream_dead_ = false;
  }
}

void WsSession::close_upstream() {
  // A dead upstream stays in upstream_ and is destroyed with the session.
  if (!upstream_ || upstream_dead_) return;
  upstream_.release()->close();
}

}  // namespace sb::ws
