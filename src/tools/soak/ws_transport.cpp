// WsTransport: connect, the RFC 6455 opening handshake read with llhttp in
// response mode, RFC 7395 framing of the XMPP stream, the closing handshake,
// and the one timer that guards each phase (connect, handshake, close, and the
// planned --drop cut).
//
// Like BoshTransport, every outcome reaches the events from the loop, never from
// inside open(), send(), restart() or close().
#include "tools/soak/ws_transport.hpp"

#include <llhttp.h>
#include <openssl/evp.h>
#include <pugixml.hpp>

#include <cstring>

#include "tools/soak/env.hpp"
#include "tools/soak/refusal.hpp"
#include "tools/soak/xmpp_client.hpp"
#include "xml/escape.hpp"

namespace sb::soak {

namespace {

constexpr const char* kFramingNs = "urn:ietf:params:xml:ns:xmpp-framing";
constexpr std::uint64_t kHandshakeTimeoutMs = 10'000;
constexpr std::uint64_t kCloseTimeoutMs = 5'000;
constexpr std::size_t kMaxHandshakeHeader = 8192;

std::string_view local_name(const char* name) {
  const char* colon = std::strchr(name, ':');
  return colon != nullptr ? std::string_view(colon + 1) : std::string_view(name);
}

bool iequals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    char x = a[i];
    char y = b[i];
    if (x >= 'A' && x <= 'Z') x = static_cast<char>(x - 'A' + 'a');
    if (y >= 'A' && y <= 'Z') y = static_cast<char>(y - 'A' + 'a');
    if (x != y) return false;
  }
  return true;
}

// RFC 6455 §4.2.2: base64(SHA-1(key + the protocol's GUID)).
std::string expected_accept(const std::string& key) {
  const std::string input = key + "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int size = 0;
  EVP_Digest(input.data(), input.size(), digest, &size, EVP_sha1(), nullptr);
  return base64(std::string_view(reinterpret_cast<const char*>(digest), size));
}

}  // namespace

// The opening handshake's state, freed once the 101 has been read.
struct WsTransport::Handshake {
  llhttp_t parser{};
  std::string key;    // our Sec-WebSocket-Key
  std::string field;  // header being read
  std::string value;
  std::string accept;             // the server's Sec-WebSocket-Accept
  std::string protocol;           // the server's Sec-WebSocket-Protocol
  std::int32_t retry_after = -1;  // a refusal's Retry-After, seconds
  std::size_t header_bytes = 0;
  bool headers_done = false;

  void commit() {
    if (iequals(field, "sec-websocket-accept")) accept = value;
    if (iequals(field, "sec-websocket-protocol")) protocol = value;
    if (iequals(field, "retry-after")) retry_after = parse_retry_after(value);
    field.clear();
    value.clear();
  }
  static Handshake* of(llhttp_t* p) { return static_cast<Handshake*>(p->data); }
  static int on_field(llhttp_t* p, const char* at, std::size_t n) {
    Handshake* h = of(p);
    if (!h->value.empty()) h->commit();
    h->field.append(at, n);
    return 0;
  }
  static int on_value(llhttp_t* p, const char* at, std::size_t n) {
    of(p)->value.append(at, n);
    return 0;
  }
  static int on_headers_complete(llhttp_t* p) {
    Handshake* h = of(p);
    h->commit();
    h->headers_done = true;
    return 0;
  }
};

void WsTransport::warm_up() { expected_accept("dGhlIHNhbXBsZSBub25jZQ=="); }

WsTransport::WsTransport(Env& env, TransportEvents* events) : env_(env), events_(events) {}

WsTransport::~WsTransport() { drop_stream(); }

void WsTransport::drop_stream() {
  base::TimerWheel::disarm(timer_);
  Dial::abandon(connecting_);
  close_stream(stream_);
  handshake_.reset();
}

void WsTransport::arm(std::uint64_t at_ms) { env_.context->timers().arm_at(timer_, at_ms); }

void WsTransport::open() {
  ++env_.interval.tally.login_attempts;
  connect();
}

void WsTransport::connect() {
  state_ = State::kConnecting;
  ++env_.interval.tally.connections;
  const Options& o = *env_.options;
  stream_ = net::TcpStream::create(env_.loop, this);
  if (Dial::start(env_, *stream_, this, on_connect, connecting_) != 0) {
    arm(env_.now_ms());  // reported from the loop: the timer finds no connect in flight
    return;
  }
  arm(env_.now_ms() + o.connect_timeout_ms);
}

void WsTransport::on_connect(void* owner, int status) {
  auto* self = static_cast<WsTransport*>(owner);
  self->connecting_ = nullptr;
  if (status != 0) {
    self->end("connect");
    return;
  }
  uv_tcp_nodelay(self->stream_->handle(), 1);
  auto hs = std::make_unique<Handshake>();
  std::string raw(16, '\0');
  for (char& c : raw) c = static_cast<char>(self->env_.rng() & 0xff);
  hs->key = base64(raw);
  static const llhttp_settings_t settings = [] {
    llhttp_settings_t s;
    llhttp_settings_init(&s);
    s.on_header_field = Handshake::on_field;
    s.on_header_value = Handshake::on_value;
    s.on_headers_complete = Handshake::on_headers_complete;
    return s;
  }();
  llhttp_init(&hs->parser, HTTP_RESPONSE, &settings);
  hs->parser.data = hs.get();
  std::string head = self->env_.request_head;
  head += "Sec-WebSocket-Key: " + hs->key + "\r\n\r\n";
  self->handshake_ = std::move(hs);
  self->state_ = State::kHandshake;
  self->stream_->write(std::move(head));
  self->stream_->start_reading();
  self->arm(self->env_.now_ms() + kHandshakeTimeoutMs);
}

void WsTransport::on_timer(base::TimerNode& node) {
  auto* self = static_cast<WsTransport*>(base::OwnedTimerNode::owner_of(node));
  switch (self->state_) {
    case State::kConnecting:
      self->end(self->connecting_ == nullptr ? "connect" : "timeout");
      return;
    case State::kHandshake:
    case State::kOpening:
      // No answer to the handshake or to our <open/>. (A cut due meanwhile waits:
      // the timer is re-armed for it once the stream is open.)
      self->end("timeout");
      return;
    case State::kRetrying: self->connect(); return;
    case State::kClosing:
      self->end("");  // the server never finished the closing handshake: we are done anyway
      return;
    default: break;
  }
  if (self->cut_at_ms_ != 0 && self->env_.now_ms() >= self->cut_at_ms_ && !self->env_.stopping) {
    ++self->env_.interval.tally.drops;
    self->end(kDropEnd);
  }
}

void WsTransport::on_read(net::TcpStream& /*stream*/, std::string_view bytes) {
  if (state_ == State::kHandshake) {
    read_handshake(bytes);
  } else {
    read_frames(bytes);
  }
}

void WsTransport::read_handshake(std::string_view bytes) {
  Handshake& hs = *handshake_;
  hs.header_bytes += bytes.size();
  const llhttp_errno_t rc = llhttp_execute(&hs.parser, bytes.data(), bytes.size());
  if (!hs.headers_done) {
    if (rc != HPE_OK || hs.header_bytes > kMaxHandshakeHeader) end("http_parse");
    return;
  }
  const int status = hs.parser.status_code;
  if (status >= 500 && status < 600) {
    refused(status, hs.retry_after);
    return;
  }
  if (status != 101) {
    end("http_" + std::to_string(status));
    return;
  }
  if (rc != HPE_PAUSED_UPGRADE || hs.accept != expected_accept(hs.key) ||
      !iequals(hs.protocol, "xmpp")) {
    end("ws_handshake");  // RFC 6455 §4.1 and RFC 7395 §3.1: the client must fail the connection
    return;
  }
  const char* frames_at = llhttp_get_error_pos(&hs.parser);
  const std::size_t used = static_cast<std::size_t>(frames_at - bytes.data());
  handshake_.reset();
  state_ = State::kOpening;
  base::TimerWheel::disarm(timer_);
  arm(env_.now_ms() + kHandshakeTimeoutMs);  // for the server's <open/>
  send_open();
  for (std::string& stanza : queue_) write_frame(WsOpcode::kText, stanza);
  std::vector<std::string>().swap(queue_);
  if (used < bytes.size()) read_frames(bytes.substr(used));
}

// The browser fails the WebSocket; the client --retry-as plays may open a new
// one later (refusal.hpp). The refused connection is closed at once.
void WsTransport::refused(int status, std::int32_t retry_after_s) {
  drop_stream();
  const NextTry next = next_try_after_refusal(env_, refusals_, status, retry_after_s);
  if (!next.retry) {
    end(next.end_reason);
    return;
  }
  state_ = State::kRetrying;
  arm(env_.now_ms() + next.delay_ms);
}

void WsTransport::read_frames(std::string_view bytes) {
  std::string error;
  if (!reader_.feed(bytes, *this, error)) end(error);
}

void WsTransport::send_open() {
  std::string open = "<open xmlns='";
  open += kFramingNs;
  open += "' to='";
  xml::append_escaped_attribute(open, env_.options->domain);
  open += "' version='1.0' xml:lang='en'/>";
  write_frame(WsOpcode::kText, open);
}

void WsTransport::write_frame(WsOpcode opcode, std::string_view payload) {
  if (stream_ == nullptr) return;
  ++env_.interval.tally.requests;
  stream_->write(ws_client_frame(opcode, payload, static_cast<std::uint32_t>(env_.rng())));
}

void WsTransport::on_ws_text(std::string_view text) {
  if (state_ == State::kEnded) return;
  pugi::xml_document doc;
  const pugi::xml_parse_result ok =
      doc.load_buffer(text.data(), text.size(), pugi::parse_default, pugi::encoding_utf8);
  const pugi::xml_node element = doc.first_child();
  if (!ok || element.type() != pugi::node_element ||
      element.next_sibling().type() == pugi::node_element) {
    end("bad_frame");  // RFC 7395 §3.3.3: exactly one complete element per message
    return;
  }
  const std::string_view name = local_name(element.name());
  if (name == "open" && std::strcmp(element.attribute("xmlns").as_string(), kFramingNs) == 0) {
    if (state_ == State::kOpening) {
      state_ = State::kOpen;
      base::TimerWheel::disarm(timer_);
      if (cut_at_ms_ != 0) arm(cut_at_ms_);
      events_->on_open();
    }
    return;
  }
  if (name == "close" && std::strcmp(element.attribute("xmlns").as_string(), kFramingNs) == 0) {
    // The server's answer to our <close/>, or its own end of the stream: either
    // way the WebSocket closing handshake comes next (RFC 7395 §3.6).
    const bool ours = state_ == State::kClosing;
    if (!close_sent_) {
      close_sent_ = true;
      write_frame(WsOpcode::kClose, ws_close_payload(1000));
    }
    if (!ours) {
      end("stream_closed");
      return;
    }
    arm(env_.now_ms() + kCloseTimeoutMs);
    return;
  }
  events_->on_stanza(element);
}

void WsTransport::on_ws_ping(std::string_view payload) { write_frame(WsOpcode::kPong, payload); }

void WsTransport::on_ws_close(std::uint16_t code) {
  if (!close_sent_) {
    close_sent_ = true;
    write_frame(WsOpcode::kClose, ws_close_payload(code == 1005 ? 1000 : code));
  }
  if (state_ == State::kClosing || code == 1000) {
    end(state_ == State::kClosing ? "" : "ws_closed_by_server");
  } else {
    end("ws_close:" + std::to_string(code));
  }
}

// --drop: the cut is planned once the session is online, at a random moment of
// what is left of the run phase, so every planned cut happens and none breaks a
// login (which would read as a failed login, not as a flaky link).
void WsTransport::on_online() {
  const double drop = env_.options->drop;
  if (drop <= 0 || cut_at_ms_ != 0 || env_.uniform() >= drop) return;
  const std::uint64_t now = env_.now_ms();
  if (env_.run_end_ms <= now + 1) return;
  cut_at_ms_ =
      now + 1 +
      static_cast<std::uint64_t>(env_.uniform() * static_cast<double>(env_.run_end_ms - now - 1));
  if (state_ == State::kOpen) arm(cut_at_ms_);
}

void WsTransport::send(std::string stanza) {
  if (state_ == State::kEnded || state_ == State::kClosing) return;
  if (state_ == State::kOpening || state_ == State::kOpen) {
    write_frame(WsOpcode::kText, stanza);
  } else {
    queue_.push_back(std::move(stanza));
  }
}

void WsTransport::restart() {
  // RFC 7395 §3.5: after SASL success the client opens a new stream on the same
  // connection with a new <open/>; the server answers with its own.
  if (state_ != State::kOpen) return;
  state_ = State::kOpening;
  arm(env_.now_ms() + kHandshakeTimeoutMs);
  send_open();
}

void WsTransport::close(std::string last) {
  if (state_ == State::kEnded || state_ == State::kClosing) return;
  if (state_ != State::kOpen && state_ != State::kOpening) {
    // Not open yet: nothing to close at the server. Reported from the loop.
    drop_stream();
    state_ = State::kClosing;
    arm(env_.now_ms());
    return;
  }
  if (!last.empty()) write_frame(WsOpcode::kText, last);
  std::string close = "<close xmlns='";
  close += kFramingNs;
  close += "'/>";
  write_frame(WsOpcode::kText, close);
  state_ = State::kClosing;
  arm(env_.now_ms() + kCloseTimeoutMs);
}

void WsTransport::on_read_end(net::TcpStream& /*stream*/, int /*status*/) {
  end(state_ == State::kClosing ? "" : state_ == State::kHandshake ? "transport" : "ws_eof");
}

void WsTransport::on_write_error(net::TcpStream& /*stream*/, int /*status*/) {
  end(state_ == State::kClosing ? "" : "transport");
}

void WsTransport::on_closed(net::TcpStream& /*stream*/) { stream_ = nullptr; }

std::string WsTransport::debug_state() const {
  return "websocket state " + std::to_string(static_cast<int>(state_)) + " buffered " +
         std::to_string(reader_.buffered_bytes()) + "B" + (close_sent_ ? " close sent" : "");
}

void WsTransport::end(std::string_view error) {
  if (state_ == State::kEnded) return;
  state_ = State::kEnded;
  drop_stream();
  std::vector<std::string>().swap(queue_);
  events_->on_ended(error);
}

}  // namespace sb::soak
