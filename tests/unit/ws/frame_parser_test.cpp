// The client-frame parser (ws/frame_parser.hpp): every rule of RFC 6455 §5 a server
// checks, and the same events whatever the chunking.
#include <doctest/doctest.h>

#include <string>
#include <vector>

#include "ws_helpers.hpp"

using namespace sb;
using test::client_frame;
using test::FrameSpec;
using test::parse;
using Events = std::vector<std::string>;

namespace {

// The events for `bytes` must be the same fed whole, byte by byte, and in chunks.
Events parse_every_way(const std::string& bytes, std::size_t max_message = 1 << 16) {
  const Events whole = parse(bytes, 0, max_message);
  for (std::size_t chunk : {1U, 2U, 3U, 7U, 13U}) {
    CHECK_MESSAGE(parse(bytes, chunk, max_message) == whole, "chunk " << chunk);
  }
  return whole;
}

std::string error(ws::CloseCode code, std::string_view what) {
  return "error:" + std::to_string(static_cast<int>(code)) + ":" + std::string(what);
}

}  // namespace

TEST_CASE("a masked text frame, whole or cut anywhere") {
  const std::string bytes = client_frame("<presence xmlns='jabber:client'/>");
  CHECK(parse_every_way(bytes) == Events{"text:<presence xmlns='jabber:client'/>"});
}

TEST_CASE("the RFC 6455 §5.7 masked \"Hello\"") {
  const std::string bytes("\x81\x85\x37\xfa\x21\x3d\x7f\x9f\x4d\x51\x58", 11);
  CHECK(parse_every_way(bytes) == Events{"text:Hello"});
}

TEST_CASE("16- and 64-bit lengths, non-minimal forms allowed") {
  const std::string big(70000, 'a');
  CHECK(parse_every_way(client_frame(big), 1 << 20) == Events{"text:" + big});
  const std::string mid(300, 'b');
  CHECK(parse_every_way(client_frame(mid)) == Events{"text:" + mid});
  CHECK(parse_every_way(client_frame("tiny", {.length_form = 16})) == Events{"text:tiny"});
  CHECK(parse_every_way(client_frame("tiny", {.length_form = 64})) == Events{"text:tiny"});
}

TEST_CASE("a 64-bit length with its top bit set is a protocol error") {
  std::string bytes = "\x81\xFF";
  bytes += std::string("\x80\x00\x00\x00\x00\x00\x00\x01", 8);
  bytes += "MASK";
  CHECK(parse_every_way(bytes) ==
        Events{error(ws::CloseCode::kProtocolError, "64-bit length with its top bit set")});
}

TEST_CASE("several frames in one chunk, and an empty message") {
  const std::string bytes = client_frame("one") + client_frame("") + client_frame("two");
  CHECK(parse_every_way(bytes) == Events{"text:one", "text:", "text:two"});
}

TEST_CASE("a fragmented text message is reassembled, with control frames between") {
  const std::string bytes = client_frame("<message xmlns='jabber:client'>", {.fin = false}) +
                            client_frame("ping!", {.opcode = 0x9}) +
                            client_frame("", {.opcode = 0x0, .fin = false}) +
                            client_frame("<body>hi</body>", {.opcode = 0x0, .fin = false}) +
                            client_frame("</message>", {.opcode = 0x0});
  CHECK(parse_every_way(bytes) ==
        Events{"ping:ping!", "text:<message xmlns='jabber:client'><body>hi</body></message>"});
}

TEST_CASE("a UTF-8 character split across fragments is fine") {
  const std::string bytes =
      client_frame("caf\xC3", {.fin = false}) + client_frame("\xA9", {.opcode = 0x0});
  CHECK(parse_every_way(bytes) == Events{"text:caf\xC3\xA9"});
}

TEST_CASE("RSV bits must be clear") {
  for (int rsv : {0x40, 0x20, 0x10}) {
    CHECK(parse_every_way(client_frame("x", {.rsv = static_cast<std::uint8_t>(rsv)})) ==
          Events{error(ws::CloseCode::kProtocolError, "RSV bit set")});
  }
}

TEST_CASE("unknown opcodes are protocol errors") {
  for (int op : {0x3, 0x7, 0xB, 0xF}) {
    CHECK(parse_every_way(client_frame("x", {.opcode = static_cast<std::uint8_t>(op)})) ==
          Events{error(ws::CloseCode::kProtocolError, "unknown opcode")});
  }
}

TEST_CASE("client frames must be masked") {
  CHECK(parse_every_way(client_frame("x", {.masked = false})) ==
        Events{error(ws::CloseCode::kProtocolError, "unmasked client frame")});
}

TEST_CASE("binary frames: 1003 at once") {
  CHECK(parse_every_way(client_frame("\x01\x02", {.opcode = 0x2})) ==
        Events{error(ws::CloseCode::kUnsupportedData, "binary frame")});
}

TEST_CASE("control frames: at most 125 bytes, never fragmented") {
  CHECK(parse_every_way(client_frame(std::string(125, 'p'), {.opcode = 0x9})) ==
        Events{"ping:" + std::string(125, 'p')});
  CHECK(parse_every_way(client_frame(std::string(126, 'p'), {.opcode = 0x9})) ==
        Events{error(ws::CloseCode::kProtocolError, "control frame over 125 bytes")});
  CHECK(parse_every_way(client_frame("p", {.opcode = 0xA, .fin = false})) ==
        Events{error(ws::CloseCode::kProtocolError, "fragmented control frame")});
  CHECK(parse_every_way(client_frame("p", {.opcode = 0xA})) == Events{"pong:p"});
}

TEST_CASE("continuation without a start, and a new message inside one") {
  CHECK(parse_every_way(client_frame("x", {.opcode = 0x0})) ==
        Events{error(ws::CloseCode::kProtocolError, "continuation without a message")});
  CHECK(parse_every_way(client_frame("a", {.fin = false}) + client_frame("b")) ==
        Events{error(ws::CloseCode::kProtocolError, "new message inside a fragmented one")});
}

TEST_CASE("the message size limit: one frame or the sum of fragments (1009)") {
  CHECK(parse_every_way(client_frame(std::string(100, 'a')), 100) ==
        Events{"text:" + std::string(100, 'a')});
  CHECK(parse_every_way(client_frame(std::string(101, 'a')), 100) ==
        Events{error(ws::CloseCode::kMessageTooBig, "message over the size limit")});
  CHECK(parse_every_way(client_frame(std::string(60, 'a'), {.fin = false}) +
                            client_frame(std::string(60, 'a'), {.opcode = 0x0}),
                        100) ==
        Events{error(ws::CloseCode::kMessageTooBig, "message over the size limit")});
  // A huge declared length is refused at the header, before any byte is buffered.
  ws::FrameParser parser(100);
  test::RecordingSink sink;
  std::string header = client_frame(std::string(1 << 20, 'z')).substr(0, 14);
  parser.feed(header.data(), header.size(), sink);
  CHECK(sink.events.size() == 1);
  CHECK(parser.buffered_bytes() == 0);
}

TEST_CASE("text must be UTF-8 (1007)") {
  for (const char* bad : {"\xFF", "\xC0\xAF", "\xED\xA0\x80", "\xF4\x90\x80\x80", "ab\xC3"}) {
    CHECK_MESSAGE(parse_every_way(client_frame(bad)) ==
                      Events{error(ws::CloseCode::kInvalidPayload, "text message is not UTF-8")},
                  bad);
  }
  // Control characters are valid UTF-8: refusing them is the XML layer's job.
  CHECK(parse_every_way(client_frame(std::string("a\x01", 2))) ==
        Events{std::string("text:a\x01", 7)});
  CHECK(parse_every_way(client_frame("\xF0\x9F\x98\x80")) == Events{"text:\xF0\x9F\x98\x80"});
}

TEST_CASE("close frames: code and reason, and nothing read after") {
  CHECK(parse_every_way(test::client_close(1000, "bye") + client_frame("late")) ==
        Events{"close:1000:bye"});
  CHECK(parse_every_way(client_frame("", {.opcode = 0x8})) == Events{"close:0:"});
  CHECK(parse_every_way(test::client_close(4000)) == Events{"close:4000:"});
  CHECK(parse_every_way(client_frame("\x03", {.opcode = 0x8})) ==
        Events{error(ws::CloseCode::kProtocolError, "close frame with a one-byte payload")});
  for (int code : {999, 1004, 1005, 1006, 1015, 2999, 5000}) {
    CHECK_MESSAGE(parse_every_way(test::client_close(static_cast<std::uint16_t>(code))) ==
                      Events{error(ws::CloseCode::kProtocolError, "invalid close code")},
                  code);
  }
  CHECK(parse_every_way(test::client_close(1000, "\xFF")) ==
        Events{error(ws::CloseCode::kInvalidPayload, "close reason is not UTF-8")});
}

TEST_CASE("nothing after an error") {
  CHECK(parse_every_way(client_frame("x", {.masked = false}) + client_frame("y")) ==
        Events{error(ws::CloseCode::kProtocolError, "unmasked client frame")});
}

TEST_CASE("stop() from a callback ends the feed") {
  struct Stopper final : ws::FrameSink {
    ws::FrameParser* parser = nullptr;
    int texts = 0;
    void text_message(std::string_view) override {
      ++texts;
      parser->stop();
    }
    void ping(std::string_view) override {}
    void pong(std::string_view) override {}
    void close_received(std::uint16_t, std::string_view) override {}
    void frame_error(ws::CloseCode, std::string_view) override {}
  } sink;
  ws::FrameParser parser(1024);
  sink.parser = &parser;
  std::string bytes = client_frame("a") + client_frame("b");
  parser.feed(bytes.data(), bytes.size(), sink);
  CHECK(sink.texts == 1);
  CHECK(parser.stopped());
}

TEST_CASE("memory: nothing held between messages, a whole message not copied") {
  ws::FrameParser parser(1 << 16);
  test::RecordingSink sink;
  std::string bytes = client_frame(std::string(1000, 'm'));
  // Cut mid-payload: the first half is copied into the message under way...
  parser.feed(bytes.data(), 500, sink);
  CHECK(parser.buffered_bytes() >= 492);  // 500 less the 8-byte header
  parser.feed(bytes.data() + 500, bytes.size() - 500, sink);
  // ...and released once it is delivered.
  CHECK(parser.buffered_bytes() == 0);
  // A partial header costs nothing on the heap.
  std::string next = client_frame(std::string(300, 'n'));
  parser.feed(next.data(), 5, sink);
  CHECK(parser.buffered_bytes() == 0);
  // Delivered in place: the view points into the caller's buffer.
  struct WhereSink final : ws::FrameSink {
    const char* at = nullptr;
    void text_message(std::string_view m) override { at = m.data(); }
    void ping(std::string_view) override {}
    void pong(std::string_view) override {}
    void close_received(std::uint16_t, std::string_view) override {}
    void frame_error(ws::CloseCode, std::string_view) override {}
  } where;
  ws::FrameParser fresh(1 << 16);
  std::string whole = client_frame("<iq/>");
  fresh.feed(whole.data(), whole.size(), where);
  CHECK(where.at == whole.data() + 6);
  INFO("sizeof(FrameParser) = " << sizeof(ws::FrameParser));
  CHECK(sizeof(ws::FrameParser) <= 96);
}
