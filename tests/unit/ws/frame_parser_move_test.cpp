// A WebSocket connection moving to another process mid-stream (an upgrade in
// place): the parser's state saved at any byte, carried in a WsRecord's bytes and
// loaded into a new parser, which then reads the rest: together the two parsers
// report exactly what one parser reading everything reports. And states no
// client could produce are refused on load.
#include <doctest/doctest.h>

#include "ws/ws_helpers.hpp"
#include "ws/ws_record.hpp"

using namespace sb;
using test::client_frame;
using test::FrameSpec;
using test::RecordingSink;

namespace {

// Feeds `bytes` to `parser` one byte at a time (the hardest cut).
void feed_bytes(ws::FrameParser& parser, std::string bytes, RecordingSink& sink) {
  for (std::size_t i = 0; i < bytes.size(); ++i) parser.feed(bytes.data() + i, 1, sink);
}

}  // namespace

TEST_CASE("a parser moved at any byte goes on as if it had never moved") {
  const std::string stream =
      client_frame("<message id='1'>first", {.opcode = 0x1, .fin = false}) +
      client_frame("ping-mid-message", {.opcode = 0x9}) +
      client_frame(std::string(300, 'x'), {.opcode = 0x0, .fin = false, .mask = 0x01020304}) +
      client_frame("</message>", {.opcode = 0x0, .fin = true}) + client_frame("<presence/>") +
      client_frame("pong", {.opcode = 0xA});
  RecordingSink whole;
  ws::FrameParser reference(1 << 16);
  feed_bytes(reference, stream, whole);
  REQUIRE(whole.events.size() == 4);

  for (std::size_t cut = 0; cut <= stream.size(); ++cut) {
    CAPTURE(cut);
    RecordingSink sink;
    ws::FrameParser before(1 << 16);
    feed_bytes(before, stream.substr(0, cut), sink);
    ws::WsRecord record;
    record.to = "example.org";
    record.parser = before.save();
    ws::WsRecord carried;
    std::string error;
    REQUIRE(ws::decode(ws::encode(record), carried, error));
    ws::FrameParser after(1 << 16);
    REQUIRE_MESSAGE(after.load(carried.parser, error), error);
    feed_bytes(after, stream.substr(cut), sink);
    CHECK(sink.events == whole.events);
  }
}

TEST_CASE("states no client could leave are refused on load") {
  ws::FrameParser parser(64);
  std::string error;
  ws::FrameParserState state;

  state.header = std::string("\x82\x85", 2);  // a binary frame's header
  CHECK_FALSE(parser.load(state, error));
  CHECK(error.find("header") != std::string::npos);

  state = {};
  state.header = std::string("\x01\x85", 2);  // not FIN, text: fine so far
  CHECK(parser.load(state, error));

  state = {};
  state.in_payload = true;
  state.opcode = 0x1;
  state.remaining = 100;  // over the 64-byte limit
  CHECK_FALSE(parser.load(state, error));

  state = {};
  state.in_payload = true;
  state.opcode = 0x9;
  state.fin = true;
  state.control = std::string(100, 'p');
  state.remaining = 30;  // a control frame over 125 bytes
  CHECK_FALSE(parser.load(state, error));

  state = {};
  state.in_payload = true;
  state.opcode = 0x0;  // a continuation outside a message
  state.remaining = 3;
  CHECK_FALSE(parser.load(state, error));

  state = {};
  state.in_payload = true;
  state.opcode = 0x1;
  state.remaining = 0;  // a payload with nothing left to read
  CHECK_FALSE(parser.load(state, error));
}

TEST_CASE("WebSocket records: damaged or newer bytes are refused with a reason") {
  ws::WsRecord record;
  record.id = 17;
  record.peer = "192.0.2.9";
  record.to = "example.org";
  record.lang = "en";
  record.open_sent = true;
  const std::string bytes = ws::encode(record);
  ws::WsRecord out;
  std::string error;
  REQUIRE(ws::decode(bytes, out, error));
  CHECK(out.id == 17);
  CHECK(out.peer == "192.0.2.9");
  CHECK(out.lang == "en");
  for (std::size_t cut = 0; cut < bytes.size(); ++cut) {
    CHECK_FALSE(ws::decode(bytes.substr(0, cut), out, error));
  }
  std::string newer = bytes;
  newer[4] = 2;
  CHECK_FALSE(ws::decode(newer, out, error));
  CHECK(error.find("newer") != std::string::npos);
}
