// The hand-over's wire format: frames survive any split of the byte stream, a
// corrupt header is skipped up to the next frame, sockets pair with frames by
// their place in the stream (a lost one costs one frame, never the pairing of the
// rest), and a request re-serialized for the owner parses back into the same
// request (with the HTTP layer's own parser).
#include <doctest/doctest.h>

#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "app/handover/handover_wire.hpp"
#include "http/request_parser.hpp"

using sb::app::encode_frame;
using sb::app::FrameReader;
using sb::app::HandoverFrame;
using sb::app::serialize_request;

namespace {

// Parses `bytes` as one request with the HTTP layer's parser.
sb::http::Request parse_one(const std::string& bytes, bool& http10) {
  sb::http::ConnectionLimits limits;
  sb::http::RequestParser parser(limits);
  std::string_view rest(bytes);
  for (;;) {
    const auto step = parser.step(rest);
    rest.remove_prefix(step.consumed);
    REQUIRE(step.event != sb::http::RequestParser::Event::kError);
    REQUIRE(step.event != sb::http::RequestParser::Event::kNeedMore);
    if (step.event == sb::http::RequestParser::Event::kRequestComplete) break;
  }
  CHECK(rest.empty());
  http10 = parser.http10();
  return parser.take_request();
}

}  // namespace

TEST_CASE("frames come out whole whatever the pieces the pipe delivers") {
  const std::string big(70000, 'x');  // more than one pipe read
  const std::string stream =
      encode_frame(3, "first") + encode_frame(0, "") + encode_frame(1023, big);
  for (std::size_t piece : {std::size_t{1}, std::size_t{3}, std::size_t{8}, std::size_t{13},
                            std::size_t{65536}, stream.size()}) {
    FrameReader reader;
    std::vector<HandoverFrame> frames;
    for (std::size_t at = 0; at < stream.size(); at += piece) {
      reader.feed(std::string_view(stream).substr(at, piece), frames);
    }
    REQUIRE(frames.size() == 3);
    CHECK(frames[0].target == 3);
    CHECK(frames[0].request == "first");
    CHECK(frames[1].target == 0);
    CHECK(frames[1].request.empty());
    CHECK(frames[2].target == 1023);
    CHECK(frames[2].request == big);
    CHECK(reader.between_frames());
  }
}

TEST_CASE("the client's address travels in the frame, apart from the request") {
  const std::string stream = encode_frame(1, "GET / HTTP/1.1\r\n\r\n", "203.0.113.9") +
                             encode_frame(2, "x", "2001:db8::7") + encode_frame(3, "y");
  FrameReader reader;
  std::vector<HandoverFrame> frames;
  reader.feed(stream, frames);
  REQUIRE(frames.size() == 3);
  CHECK(frames[0].peer == "203.0.113.9");
  CHECK(frames[0].request == "GET / HTTP/1.1\r\n\r\n");
  CHECK(frames[1].peer == "2001:db8::7");
  CHECK(frames[1].request == "x");
  CHECK(frames[2].peer.empty());
  CHECK(frames[2].request == "y");

  std::string lying = encode_frame(1, "");
  lying[12] = '\x09';  // an address longer than the payload
  FrameReader other;
  frames.clear();
  other.feed(lying + encode_frame(4, "next"), frames);
  CHECK(other.resyncs() >= 1);
  REQUIRE(frames.size() == 1);  // the lie is skipped, the next frame is read
  CHECK(frames[0].target == 4);
  CHECK(frames[0].request == "next");
}

TEST_CASE("a partial frame waits, a corrupt header is skipped to the next frame") {
  FrameReader reader;
  std::vector<HandoverFrame> frames;
  const std::string frame = encode_frame(2, "abc");
  reader.feed(std::string_view(frame).substr(0, frame.size() - 1), frames);
  CHECK(frames.empty());
  CHECK_FALSE(reader.between_frames());
  reader.feed(std::string_view(frame).substr(frame.size() - 1), frames);
  CHECK(frames.size() == 1);
  CHECK(frames[0].start == 0);

  SUBCASE("a length beyond the cap") {
    std::string corrupt = encode_frame(1, "");
    corrupt[8] = corrupt[9] = corrupt[10] = corrupt[11] = '\xff';  // length 4 GiB - 1
    const std::string stream = corrupt + encode_frame(7, "after");
    FrameReader other;
    frames.clear();
    for (std::size_t at = 0; at < stream.size(); at += 5) {  // in pieces: the marker may be split
      other.feed(std::string_view(stream).substr(at, 5), frames);
    }
    REQUIRE(frames.size() == 1);
    CHECK(frames[0].target == 7);
    CHECK(frames[0].start == corrupt.size());
    CHECK(other.resyncs() >= 1);
  }
  SUBCASE("garbage with no marker at all, then a frame") {
    const std::string stream = std::string(100, 'g') + encode_frame(3, "ok");
    FrameReader other;
    frames.clear();
    other.feed(stream, frames);
    REQUIRE(frames.size() == 1);
    CHECK(frames[0].request == "ok");
    CHECK(frames[0].start == 100);
  }
}

TEST_CASE("sockets pair with the frame that began in their chunk, a lost one shifts nothing") {
  // Three hand-overs and a control frame, read in chunks as the kernel would cut
  // them: each socket comes with the chunk holding its frame's first byte.
  const std::string a = encode_frame(1, "request-a");
  const std::string control = sb::app::encode_control("alive", "");
  const std::string b = encode_frame(2, "request-b");
  const std::string c = encode_frame(3, "request-c");
  sb::app::PipeInbox<int> inbox;
  std::vector<int> orphans;
  std::vector<std::pair<std::string, std::optional<int>>> paired;
  auto chunk = [&](std::string_view bytes, std::optional<int> socket) {
    std::vector<int> sockets;
    if (socket) sockets.push_back(*socket);
    std::vector<HandoverFrame> frames;
    CHECK(inbox.take(bytes, sockets, frames) == 0);
    for (const HandoverFrame& frame : frames) {
      if (frame.target == sb::app::kControlTarget) continue;
      paired.emplace_back(frame.request, inbox.claim(frame, orphans));
    }
  };
  SUBCASE("every socket arrives") {
    chunk(a.substr(0, 5), 10);  // a's socket with its first bytes
    chunk(a.substr(5) + control + b.substr(0, 1), 20);
    chunk(b.substr(1) + c, 30);
    REQUIRE(paired.size() == 3);
    CHECK(paired[0] == std::make_pair(std::string("request-a"), std::optional<int>(10)));
    CHECK(paired[1] == std::make_pair(std::string("request-b"), std::optional<int>(20)));
    CHECK(paired[2] == std::make_pair(std::string("request-c"), std::optional<int>(30)));
    CHECK(orphans.empty());
  }
  SUBCASE("b's socket is lost on the way (MSG_CTRUNC): only b goes without one") {
    chunk(a, 10);
    chunk(control + b, std::nullopt);
    chunk(c, 30);
    REQUIRE(paired.size() == 3);
    CHECK(paired[0].second == std::optional<int>(10));
    CHECK(paired[1].second == std::nullopt);
    CHECK(paired[2].second == std::optional<int>(30));
    CHECK(orphans.empty());
  }
  SUBCASE("a socket whose chunk holds no hand-over frame is an orphan, and only that") {
    chunk(a, 10);
    chunk(control, 99);  // cannot happen with a well-behaved sender
    chunk(b, 20);
    REQUIRE(paired.size() == 2);
    CHECK(paired[1].second == std::optional<int>(20));
    CHECK(orphans == std::vector<int>{99});
  }
  SUBCASE("take_all gives back what waits") {
    chunk(a.substr(0, 3), 10);
    CHECK(paired.empty());
    CHECK(inbox.take_all() == std::vector<int>{10});
    CHECK(inbox.take_all().empty());
  }
}

TEST_CASE("a request re-serialized for its owner parses back the same") {
  sb::http::Request request;
  request.method = sb::http::Method::kPost;
  request.path = "/http-bind";
  request.origin = "https://chat.example.com";
  request.content_type = "text/xml; charset=utf-8";
  request.body =
      "<body rid='2' sid='w1.abc' xmlns='http://jabber.org/protocol/httpbind'>\r\n</body>";

  SUBCASE("HTTP/1.1 keep-alive") {
    bool http10 = true;
    const auto back = parse_one(*serialize_request(request, false), http10);
    CHECK_FALSE(http10);
    CHECK(back.method == request.method);
    CHECK(back.path == request.path);
    CHECK(back.origin == request.origin);
    CHECK(back.content_type == request.content_type);
    CHECK(back.body == request.body);
    CHECK(back.keep_alive);
  }
  SUBCASE("HTTP/1.1 Connection: close") {
    request.keep_alive = false;
    bool http10 = true;
    const auto back = parse_one(*serialize_request(request, false), http10);
    CHECK_FALSE(back.keep_alive);
  }
  SUBCASE("HTTP/1.0 keeps its version and its keep-alive wish") {
    bool http10 = false;
    auto back = parse_one(*serialize_request(request, true), http10);
    CHECK(http10);
    CHECK(back.keep_alive);
    request.keep_alive = false;
    back = parse_one(*serialize_request(request, true), http10);
    CHECK_FALSE(back.keep_alive);
  }
  SUBCASE("no Origin or Content-Type: none invented") {
    request.origin.clear();
    request.content_type.clear();
    const std::string bytes = *serialize_request(request, false);
    CHECK(bytes.find("Origin") == std::string::npos);
    CHECK(bytes.find("Content-Type") == std::string::npos);
    bool http10 = false;
    CHECK(parse_one(bytes, http10).body == request.body);
  }
  SUBCASE("forwarding headers travel, for the owner to judge") {
    request.forwarded_for = "198.51.100.1, 10.0.0.2";
    request.forwarded = "for=198.51.100.1";
    bool http10 = false;
    const auto back = parse_one(*serialize_request(request, false), http10);
    CHECK(back.forwarded_for == request.forwarded_for);
    CHECK(back.forwarded == request.forwarded);
  }
  SUBCASE("a method the parser could not name is not serialized") {
    request.method = sb::http::Method::kOther;
    CHECK_FALSE(serialize_request(request, false).has_value());
  }
}

TEST_CASE("control frames travel between hand-overs and parse back") {
  using sb::app::kControlTarget;
  std::string bytes = encode_frame(2, "GET / HTTP/1.1\r\n\r\n");
  bytes += sb::app::encode_control("config", std::string("7\nmax_wait=60") + '\0' + "x=y");
  bytes += sb::app::encode_control("listening", "");
  FrameReader reader;
  std::vector<HandoverFrame> frames;
  reader.feed(bytes, frames);
  REQUIRE(frames.size() == 3);
  CHECK(frames[0].target == 2);
  CHECK(frames[1].target == kControlTarget);
  const auto config = sb::app::parse_control(frames[1].request);
  CHECK(config.kind == "config");
  CHECK(config.body == std::string("7\nmax_wait=60") + '\0' + "x=y");
  const auto listening = sb::app::parse_control(frames[2].request);
  CHECK(listening.kind == "listening");
  CHECK(listening.body.empty());
}
