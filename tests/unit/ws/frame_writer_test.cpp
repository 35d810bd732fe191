// Server frames (ws/frame_writer.hpp), decoded back as a client would.
#include <doctest/doctest.h>

#include "ws/frame_writer.hpp"
#include "ws_helpers.hpp"

using namespace sb;
using test::ServerFrame;

namespace {
std::vector<ServerFrame> decode(const std::string& bytes) {
  bool ok = false;
  auto frames = test::decode_server_frames(bytes, ok);
  CHECK(ok);
  return frames;
}
}  // namespace

TEST_CASE("text frames in the three length forms, unmasked and final") {
  for (std::size_t n : {0U, 1U, 125U, 126U, 65535U, 65536U, 70000U}) {
    const std::string payload(n, 'x');
    const std::string frame = ws::text_frame(payload);
    const std::size_t header = n <= 125 ? 2 : n <= 65535 ? 4 : 10;
    CHECK(frame.size() == header + n);
    CHECK(static_cast<unsigned char>(frame[0]) == 0x81);
    CHECK(decode(frame) == std::vector<ServerFrame>{{0x1, payload}});
  }
}

TEST_CASE("a known frame byte for byte") {
  CHECK(ws::text_frame("Hello") == std::string("\x81\x05Hello"));
  CHECK(ws::close_frame(ws::CloseCode::kNormal) == std::string("\x88\x02\x03\xE8", 4));
  CHECK(ws::close_frame(ws::CloseCode::kNone) == std::string("\x88\x00", 2));
  CHECK(ws::pong_frame("hi") == std::string("\x8A\x02hi"));
  CHECK(ws::ping_frame("") == std::string("\x89\x00", 2));
}

TEST_CASE("control frames never exceed 125 bytes, a long reason is cut on a character") {
  CHECK(decode(ws::ping_frame(std::string(300, 'p')))[0].payload.size() == 125);
  std::string reason;
  for (int i = 0; i < 100; ++i) reason += "\xC3\xA9";  // é, two bytes each
  const auto frames = decode(ws::close_frame(ws::CloseCode::kMessageTooBig, reason));
  REQUIRE(frames.size() == 1);
  CHECK(frames[0].payload.size() == 2 + 122);  // 123 would split a character
  CHECK(frames[0].payload.substr(0, 2) == std::string("\x03\xF1", 2));
}

TEST_CASE("what the writer writes, the parser reads (with a mask added)") {
  // The server's frame with a mask inserted is a valid client frame.
  const std::string payload = "<message xmlns='jabber:client'>hi</message>";
  test::RecordingSink sink;
  std::string client = test::client_text(payload);
  ws::FrameParser parser(1024);
  parser.feed(client.data(), client.size(), sink);
  CHECK(sink.events == std::vector<std::string>{"text:" + payload});
}
