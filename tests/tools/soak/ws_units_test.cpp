// Unit tests of switchboard-soak's WebSocket parts that need no socket: the
// masked client frames, the reader of server frames (fed whole, byte by byte and
// in odd chunks), the Ledger's write-off of a session --drop ended, and the
// --transport option.
#include <doctest/doctest.h>

#include <string>
#include <vector>

#include "parse_args.hpp"
#include "tools/soak/ledger.hpp"
#include "tools/soak/options.hpp"
#include "tools/soak/ws_frames.hpp"

using namespace sb::soak;
using sb::soak::test::parse;

namespace {

// A server frame: never masked.
std::string server_frame(std::uint8_t first_byte, const std::string& payload) {
  std::string out;
  out += static_cast<char>(first_byte);
  const std::size_t n = payload.size();
  if (n < 126) {
    out += static_cast<char>(n);
  } else if (n <= 0xffff) {
    out += static_cast<char>(126);
    out += static_cast<char>(n >> 8);
    out += static_cast<char>(n & 0xff);
  } else {
    out += static_cast<char>(127);
    for (int shift = 56; shift >= 0; shift -= 8)
      out += static_cast<char>((static_cast<std::uint64_t>(n) >> shift) & 0xff);
  }
  return out + payload;
}

struct Recorder final : WsFrameSink {
  std::vector<std::string> events;
  void on_ws_text(std::string_view text) override { events.push_back("text:" + std::string(text)); }
  void on_ws_ping(std::string_view payload) override {
    events.push_back("ping:" + std::string(payload));
  }
  void on_ws_close(std::uint16_t code) override {
    events.push_back("close:" + std::to_string(code));
  }
};

// Feeds `wire` in chunks of `step` bytes (0: whole); returns the events, and
// the first fault in `error`.
std::vector<std::string> read_all(const std::string& wire, std::size_t step, std::string& error,
                                  std::size_t* left = nullptr) {
  WsFrameReader reader;
  Recorder sink;
  error.clear();
  if (step == 0) step = wire.size();
  for (std::size_t at = 0; at < wire.size(); at += step) {
    if (!reader.feed(std::string_view(wire).substr(at, step), sink, error)) break;
  }
  if (left != nullptr) *left = reader.buffered_bytes();
  return sink.events;
}

}  // namespace

TEST_CASE(
    "ws client frames: FIN, masked, the shortest length form, payload recoverable with the key") {
  for (std::size_t n : {0u, 5u, 125u, 126u, 65535u, 65536u}) {
    const std::string payload(n, 'a');
    const std::string f = ws_client_frame(WsOpcode::kText, payload, 0x01020304u);
    CHECK(static_cast<unsigned char>(f[0]) == 0x81);
    CHECK((static_cast<unsigned char>(f[1]) & 0x80) ==
          0x80);  // RFC 6455 §5.3: clients mask every frame
    const unsigned len7 = static_cast<unsigned char>(f[1]) & 0x7f;
    const std::size_t header = n < 126 ? 2 : (n <= 0xffff ? 4 : 10);
    CHECK(len7 == (n < 126 ? n : (n <= 0xffff ? 126u : 127u)));
    REQUIRE(f.size() == header + 4 + n);
    const std::string key = f.substr(header, 4);
    CHECK(key == std::string("\x01\x02\x03\x04", 4));
    std::string unmasked = f.substr(header + 4);
    for (std::size_t i = 0; i < unmasked.size(); ++i)
      unmasked[i] = static_cast<char>(unmasked[i] ^ key[i & 3]);
    CHECK(unmasked == payload);
  }
  CHECK(ws_close_payload(1000) == std::string("\x03\xe8", 2));
}

TEST_CASE(
    "ws reader: text, a fragmented message with a ping between its parts, close, cut anywhere") {
  const std::string big(70000, 'x');
  const std::string wire =
      server_frame(0x81, "<open/>") + server_frame(0x01, "<mess") + server_frame(0x89, "hi") +
      server_frame(0x80, "age/>") + server_frame(0x81, big) + server_frame(0x8A, "pong") +
      server_frame(0x88, std::string("\x03\xe8", 2)) + server_frame(0x81, "<late/>");
  const std::vector<std::string> expected = {"text:<open/>", "ping:hi", "text:<message/>",
                                             "text:" + big, "close:1000"};
  for (std::size_t step : {0u, 1u, 2u, 3u, 7u, 13u, 4096u}) {
    CAPTURE(step);
    std::string error;
    std::size_t left = 1;
    CHECK(read_all(wire, step, error, &left) == expected);  // nothing after the close frame
    CHECK(error.empty());
    CHECK(left == 0);  // no heap kept once the frames are read
  }
}

TEST_CASE("ws reader: an idle reader between whole frames holds no buffer") {
  WsFrameReader reader;
  Recorder sink;
  std::string error;
  const std::string one = server_frame(0x81, "<presence>" + std::string(100, ' ') + "</presence>");
  CHECK(reader.feed(one, sink, error));
  CHECK(reader.buffered_bytes() == 0);
  CHECK(reader.feed(std::string_view(one).substr(0, 50), sink, error));
  CHECK(reader.buffered_bytes() >= 50);  // a frame cut across reads is carried
  CHECK(reader.feed(std::string_view(one).substr(50), sink, error));
  CHECK(reader.buffered_bytes() == 0);
  CHECK(sink.events.size() == 2);
}

TEST_CASE("ws reader: faults a client must fail the connection for") {
  std::string error;
  std::string masked = server_frame(0x81, "abcd");
  masked[1] = static_cast<char>(masked[1] | 0x80);
  CHECK(read_all(masked + std::string(4, '\0'), 0, error).empty());
  CHECK(error == "ws_protocol:masked_server_frame");
  CHECK(read_all(server_frame(0x82, "bin"), 0, error).empty());
  CHECK(error == "ws_protocol:binary");  // RFC 7395 §3.2: text frames only
  CHECK(read_all(server_frame(0x80, "orphan"), 0, error).empty());
  CHECK(error == "ws_protocol:fragmentation");
  CHECK(read_all(server_frame(0x09, "ping"), 0, error).empty());
  CHECK(error == "ws_protocol:control_frame");
  CHECK(read_all(server_frame(0xC1, "rsv"), 0, error).empty());
  CHECK(error == "ws_protocol:rsv");
  std::string huge = server_frame(0x81, "");
  huge[1] = 127;
  huge += std::string("\x00\x00\x00\x00\x7f\x00\x00\x00", 8);
  CHECK(read_all(huge, 0, error).empty());
  CHECK(error == "ws_protocol:too_big");
}

TEST_CASE(
    "ledger: a session cut for good writes off what was on its way to it, what it sent may still "
    "arrive") {
  Ledger ledger;
  std::uint64_t latency = 0;
  const std::string a = ledger.compose(0, 1, 10, 40);
  const std::string b =
      ledger.compose(0, 1, 20, 40);  // in flight to 1: can never arrive once 1 is cut
  const std::string c = ledger.compose(0, 1, 30, 40);
  const std::string d =
      ledger.compose(1, 0, 40, 40);  // in flight from 1: left before the cut, on its way
  ledger.compose(1, 0, 45, 40);      // from 1 as well: died with the connection
  const std::string e = ledger.compose(2, 3, 50, 40);
  ledger.compose(2, 3, 60, 40);  // in flight between others: stays outstanding
  CHECK(ledger.receive(1, a, 100, latency) == Ledger::Outcome::kFirst);
  CHECK(ledger.receive(1, c, 100, latency) == Ledger::Outcome::kFirst);  // 2 is a gap now
  CHECK(ledger.receive(3, e, 100, latency) == Ledger::Outcome::kFirst);
  CHECK(ledger.outstanding() == 4);
  CHECK(ledger.write_off(1) == 1);
  CHECK(ledger.written_off() == 1);
  CHECK(ledger.in_doubt() == 2);
  CHECK(ledger.outstanding() == 1);  // only 2->3: the run's end does not wait for the cut session's
  CHECK(ledger.write_off(1) == 0);
  // A message the cut session sent arrives after the cut: a first copy, not a
  // duplicate (the false duplicate --drop runs over WebSocket used to report).
  CHECK(ledger.receive(0, d, 140, latency) == Ledger::Outcome::kFirst);
  CHECK(latency == 100);
  CHECK(ledger.in_doubt() == 1);
  CHECK(ledger.receive(0, d, 150, latency) == Ledger::Outcome::kDuplicate);
  CHECK(ledger.receive(1, b, 150, latency) ==
        Ledger::Outcome::kDuplicate);  // written off: never counted twice
  CHECK(ledger.unique_received() == 4);
  CHECK(ledger.outstanding() == 1);
}

TEST_CASE("options: --transport and ws:// URLs") {
  Options o;
  std::string error;
  REQUIRE(parse({"--url", "http://127.0.0.1:5280/http-bind"}, o, error));
  CHECK(o.transport == TransportKind::kBosh);
  Options w;
  REQUIRE(parse({"--url", "ws://127.0.0.1:5280/xmpp-websocket"}, w, error));
  CHECK(w.transport == TransportKind::kWebSocket);
  CHECK(w.host == "127.0.0.1");
  CHECK(w.port == 5280);
  CHECK(w.path == "/xmpp-websocket");
  Options t;
  REQUIRE(parse({"--url", "http://127.0.0.1:5280/ws", "--transport", "websocket"}, t, error));
  CHECK(t.transport == TransportKind::kWebSocket);
  Options b;
  REQUIRE(parse({"--transport", "bosh", "--url", "ws://127.0.0.1:1/x"}, b, error));
  CHECK(b.transport == TransportKind::kBosh);  // an explicit --transport wins over the scheme
  Options bad;
  CHECK_FALSE(parse({"--url", "ws://h:1/x", "--transport", "carrier-pigeon"}, bad, error));
  CHECK(error.find("--transport") != std::string::npos);
  Options delay;
  CHECK_FALSE(parse({"--url", "ws://h:1/x", "--delay", "100"}, delay, error));
  CHECK(error.find("--delay") != std::string::npos);
  Options wss;
  CHECK_FALSE(parse({"--url", "wss://h:1/x"}, wss, error));
}
