// The hand-over's wire format: frames survive any split of the byte stream, a
// corrupt length is caught, and a request re-serialized for the owner parses back
// into the same request (with the HTTP layer's own parser).
#include <doctest/doctest.h>

#include <string>
#include <vector>

#include "app/handover_wire.hpp"
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
  const std::string stream = encode_frame(3, "first") + encode_frame(0, "") + encode_frame(1023, big);
  for (std::size_t piece : {std::size_t{1}, std::size_t{3}, std::size_t{8}, std::size_t{13},
                            std::size_t{65536}, stream.size()}) {
    FrameReader reader;
    std::vector<HandoverFrame> frames;
    for (std::size_t at = 0; at < stream.size(); at += piece) {
      REQUIRE(reader.feed(std::string_view(stream).substr(at, piece), frames));
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
  REQUIRE(reader.feed(stream, frames));
  REQUIRE(frames.size() == 3);
  CHECK(frames[0].peer == "203.0.113.9");
  CHECK(frames[0].request == "GET / HTTP/1.1\r\n\r\n");
  CHECK(frames[1].peer == "2001:db8::7");
  CHECK(frames[1].request == "x");
  CHECK(frames[2].peer.empty());
  CHECK(frames[2].request == "y");

  std::string lying = encode_frame(1, "");
  lying[8] = '\x09';  // an address longer than the payload
  FrameReader other;
  CHECK_FALSE(other.feed(lying, frames));
}

TEST_CASE("a partial frame waits; a length beyond the cap is corruption") {
  FrameReader reader;
  std::vector<HandoverFrame> frames;
  const std::string frame = encode_frame(2, "abc");
  CHECK(reader.feed(std::string_view(frame).substr(0, frame.size() - 1), frames));
  CHECK(frames.empty());
  CHECK_FALSE(reader.between_frames());
  CHECK(reader.feed(std::string_view(frame).substr(frame.size() - 1), frames));
  CHECK(frames.size() == 1);

  std::string corrupt = encode_frame(1, "");
  corrupt[4] = corrupt[5] = corrupt[6] = corrupt[7] = '\xff';  // length 4 GiB - 1
  FrameReader other;
  CHECK_FALSE(other.feed(corrupt, frames));
}

TEST_CASE("a request re-serialized for its owner parses back the same") {
  sb::http::Request request;
  request.method = sb::http::Method::kPost;
  request.path = "/http-bind";
  request.origin = "https://chat.example.com";
  request.content_type = "text/xml; charset=utf-8";
  request.body = "<body rid='2' sid='w1.abc' xmlns='http://jabber.org/protocol/httpbind'>\r\n</body>";

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
  REQUIRE(reader.feed(bytes, frames));
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
