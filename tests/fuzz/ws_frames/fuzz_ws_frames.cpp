// fuzz_ws_frames: a client's WebSocket bytes to ws::FrameParser and to a whole
// ws::WsSession with a scripted in-memory server.
//
// Parser: the bytes are parsed whole, one byte per feed() (inputs up to 4 KiB) and
// cut at points chosen by the input; the three event lists must be identical (the
// parser unmasks in place, so each run gets its own copy). Nothing follows an error
// or a close frame, no text message exceeds the limit or fails UTF-8, no control
// payload exceeds 125 bytes, and nothing stays buffered once the input ends on a
// message boundary.
//
// Session: the same bytes in input-chosen chunks, with a server that answers after
// each chunk (features, SASL success, the restart, iq results, echoed messages, and
// on request a stream error or a clean close). The session must never write after
// WsOutput::close(), close at most once, write only well-formed unmasked frames
// with nothing after its close frame, forward to the server only single elements
// that read back the same (read_client_message is stable on its own output), and
// free every upstream (ASan's leak check).
//
// Input: byte 0 = options (bits 0-1: message limit 64 B / 256 B / 4 KiB / 64 KiB;
// bit 2: the server answers a <presence> with a stream error; bit 3: the server
// closes its stream after the fourth stanza it receives), byte 1 = seed of the cut
// points, the rest = the client's bytes.
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "support/check.hpp"
#include "support/trace.hpp"
#include "ws/frame_parser.hpp"
#include "ws/ws_session.hpp"
#include "ws/xmpp_framing.hpp"

namespace {

using namespace sb;

constexpr std::size_t kLimits[] = {64, 256, 4096, 65536};

// --- the parser alone ---------------------------------------------------------

class Recorder final : public ws::FrameSink {
 public:
  explicit Recorder(std::size_t limit) : limit_(limit) {}
  void text_message(std::string_view m) override {
    alive();
    FUZZ_CHECK(m.size() <= limit_, "text message over the limit");
    events.push_back("text:" + std::string(m));
  }
  void ping(std::string_view p) override {
    alive();
    FUZZ_CHECK(p.size() <= 125, "ping payload over 125 bytes");
    events.push_back("ping:" + std::string(p));
  }
  void pong(std::string_view p) override {
    alive();
    FUZZ_CHECK(p.size() <= 125, "pong payload over 125 bytes");
    events.push_back("pong:" + std::string(p));
  }
  void close_received(std::uint16_t code, std::string_view reason) override {
    alive();
    ended_ = true;
    events.push_back("close:" + std::to_string(code) + ":" + std::string(reason));
  }
  void frame_error(ws::CloseCode code, std::string_view what) override {
    alive();
    ended_ = true;
    events.push_back("error:" + std::to_string(static_cast<int>(code)) + ":" + std::string(what));
  }
  std::vector<std::string> events;

 private:
  void alive() const { FUZZ_CHECK(!ended_, "an event after the close or an error"); }
  std::size_t limit_;
  bool ended_ = false;
};

// Cut points: chunk sizes from 1 to 64 drawn from a small LCG seeded by the input.
std::vector<std::size_t> cuts(std::size_t size, std::uint8_t seed) {
  std::vector<std::size_t> sizes;
  std::uint32_t state = seed * 2654435761U + 1;
  for (std::size_t at = 0; at < size;) {
    state = state * 1103515245U + 12345U;
    const std::size_t n = std::min<std::size_t>(1 + ((state >> 16) % 64), size - at);
    sizes.push_back(n);
    at += n;
  }
  return sizes;
}

std::vector<std::string> run_parser(std::string bytes, std::size_t limit,
                                    const std::vector<std::size_t>& chunks) {
  ws::FrameParser parser(limit);
  Recorder recorder(limit);
  std::size_t at = 0;
  for (std::size_t n : chunks) {
    parser.feed(bytes.data() + at, n, recorder);
    at += n;
  }
  return recorder.events;
}

// --- the session with a scripted server ---------------------------------------

struct Server;

struct Upstream final : engine::Upstream {
  explicit Upstream(Server& s) : server(s) {}
  ~Upstream() override;
  void send(std::string_view bytes) override;
  void restart(const engine::UpstreamTarget&) override;
  void close() override;
  Server& server;
  bool dead = false;  // reported its end: the session must not close() it
};

struct Server final : engine::UpstreamFactory {
  engine::UpstreamEvents* events = nullptr;
  Upstream* live = nullptr;  // the current upstream while it may deliver events
  int received = 0;
  bool error_on_presence = false;
  bool close_after_four = false;
  std::vector<std::string> queued;  // what the server says at the next flush

  std::unique_ptr<engine::Upstream> open(const engine::UpstreamTarget& target,
                                         engine::UpstreamEvents& e,
                                         engine::StanzaFraming framing) override {
    FUZZ_CHECK(!target.to.empty(), "an upstream opened without a domain");
    FUZZ_CHECK(framing == engine::StanzaFraming::kWebSocket,
               "a WebSocket session's elements must be fixed for messages of their own");
    FUZZ_CHECK(live == nullptr, "a second upstream for one session");
    events = &e;
    auto upstream = std::make_unique<Upstream>(*this);
    live = upstream.get();
    queued.emplace_back("@open");
    // As a link delivers them for kWebSocket: the stream prefix declared, no <starttls/>.
    queued.emplace_back(
        "<stream:features xmlns:stream='http://etherx.jabber.org/streams'>"
        "<mechanisms xmlns='urn:ietf:params:xml:ns:xmpp-sasl'>"
        "<mechanism>PLAIN</mechanism></mechanisms></stream:features>");
    return upstream;
  }

  // The server's answers, delivered between two feeds (never inside a session call).
  void flush() {
    std::vector<std::string> lines = std::move(queued);
    queued.clear();
    for (std::string& line : lines) {
      if (live == nullptr) return;
      if (line == "@open") {
        events->upstream_opened({"fuzz-id", "example.com", "1.0"});
      } else if (line == "@close" || line == "@error") {
        live->dead = true;
        live = nullptr;  // a link that reported its end delivers nothing more
        if (line == "@close") {
          events->upstream_closed(engine::UpstreamEnd::kServerClosed, {});
        } else {
          events->upstream_closed(
              engine::UpstreamEnd::kStreamError,
              "<stream:error xmlns:stream='http://etherx.jabber.org/streams'>"
              "<conflict xmlns='urn:ietf:params:xml:ns:xmpp-streams'/></stream:error>");
        }
        return;
      } else {
        events->upstream_stanza(std::move(line));
      }
    }
    if (live != nullptr && events != nullptr) events->upstream_batch_end();
  }
};

Upstream::~Upstream() {
  if (server.live == this) server.live = nullptr;
}

void Upstream::send(std::string_view bytes) {
  FUZZ_CHECK(server.live == this, "send() on an upstream that ended");
  // Each forwarded unit is one element that reads back as itself.
  const ws::ClientMessage again = ws::read_client_message(bytes);
  FUZZ_CHECK(again.kind == ws::ClientMessage::Kind::kStanza && again.stanza == bytes,
             "forwarded bytes are not one stable element: " + std::string(bytes));
  ++server.received;
  fuzz::trace("server <-", bytes);
  if (bytes.starts_with("<auth")) {
    server.queued.emplace_back("<success xmlns='urn:ietf:params:xml:ns:xmpp-sasl'/>");
  } else if (bytes.starts_with("<iq")) {
    server.queued.emplace_back("<iq xmlns='jabber:client' type='result' id='x'/>");
  } else if (bytes.starts_with("<message")) {
    server.queued.emplace_back(bytes);
  } else if (bytes.starts_with("<presence") && server.error_on_presence) {
    server.queued.emplace_back("@error");
  }
  if (server.close_after_four && server.received == 4) server.queued.emplace_back("@close");
}

void Upstream::restart(const engine::UpstreamTarget&) {
  FUZZ_CHECK(server.live == this, "restart() on an upstream that ended");
  server.queued.emplace_back("@open");
  server.queued.emplace_back(
      "<stream:features xmlns:stream='http://etherx.jabber.org/streams'>"
      "<bind xmlns='urn:ietf:params:xml:ns:xmpp-bind'/></stream:features>");
}

void Upstream::close() {
  FUZZ_CHECK(!dead, "close() on an upstream that reported its end");
  delete this;  // an Upstream frees itself after close()
}

// Checks every frame the session writes as it is written.
struct Output final : ws::WsOutput {
  int closes = 0;
  bool close_frame_seen = false;
  void write(std::string_view header, std::string_view payload) override {
    FUZZ_CHECK(closes == 0, "a write after close()");
    FUZZ_CHECK(!close_frame_seen, "a frame after the close frame");
    FUZZ_CHECK(header.size() >= 2, "a short frame header");
    const auto b0 = static_cast<std::uint8_t>(header[0]);
    const auto b1 = static_cast<std::uint8_t>(header[1]);
    FUZZ_CHECK((b0 & 0xF0) == 0x80, "server frame without FIN or with RSV bits");
    FUZZ_CHECK((b1 & 0x80) == 0, "a masked server frame");
    std::uint64_t n = b1 & 0x7F;
    std::size_t size = 2;
    if (n == 126) {
      size = 4;
      n = (std::uint64_t{static_cast<std::uint8_t>(header[2])} << 8) |
          static_cast<std::uint8_t>(header[3]);
    } else if (n == 127) {
      size = 10;
      n = 0;
      for (std::size_t i = 2; i < 10; ++i) n = (n << 8) | static_cast<std::uint8_t>(header[i]);
    }
    FUZZ_CHECK(header.size() == size && n == payload.size(),
               "frame length does not match its payload");
    const std::uint8_t opcode = b0 & 0x0F;
    FUZZ_CHECK(opcode == 0x1 || opcode == 0x8 || opcode == 0xA, "unexpected server opcode");
    fuzz::trace(opcode == 0x1 ? "ws <-" : opcode == 0x8 ? "ws <- close" : "ws <- pong", payload);
    if (opcode != 0x1) FUZZ_CHECK(payload.size() <= 125, "control frame over 125 bytes");
    if (opcode == 0x8) close_frame_seen = true;
  }
  void close() override {
    fuzz::trace("ws", "close()");
    FUZZ_CHECK(closes == 0, "close() twice");
    ++closes;
  }
  std::size_t queued_bytes() const override { return 0; }
};

void run_session(const std::string& input, std::size_t limit, std::uint8_t options,
                 const std::vector<std::size_t>& chunks) {
  Server server;
  server.error_on_presence = (options & 4) != 0;
  server.close_after_four = (options & 8) != 0;
  ws::WsContext context{server, [](std::string_view to) -> std::optional<engine::UpstreamTarget> {
                          if (to != "example.com") return std::nullopt;
                          return engine::UpstreamTarget{"127.0.0.1", 5222, "", "", "", ""};
                        }};
  context.max_message_bytes = limit;
  Output output;
  std::string bytes = input;
  {
    ws::WsSession session(context, output);
    std::size_t at = 0;
    for (std::size_t n : chunks) {
      session.feed(bytes.data() + at, n);
      at += n;
      server.flush();
    }
    if (session.state() == ws::WsSession::State::kClosed) {
      FUZZ_CHECK(output.closes == 1, "closed without WsOutput::close()");
    }
    FUZZ_CHECK(session.buffered_bytes() <= 2 * limit + 256,
               "session buffers beyond the message limit");
  }
  server.flush();  // nothing may reach a destroyed session: live must be null by now
  FUZZ_CHECK(server.live == nullptr, "an upstream still live after its session");
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < 2) return 0;
  const std::uint8_t options = data[0];
  const std::uint8_t seed = data[1];
  const std::size_t limit = kLimits[options & 3];
  const std::string input(reinterpret_cast<const char*>(data + 2), size - 2);

  const auto whole = run_parser(input, limit, {input.size()});
  if (input.size() <= 4096) {
    const auto bytewise = run_parser(input, limit, std::vector<std::size_t>(input.size(), 1));
    FUZZ_CHECK(bytewise == whole, "byte-by-byte parsing differs from whole");
  }
  const std::vector<std::size_t> chunks = cuts(input.size(), seed);
  FUZZ_CHECK(run_parser(input, limit, chunks) == whole, "chunked parsing differs from whole");

  run_session(input, limit, options, chunks);
  return 0;
}
