// In-order answers to pipelined requests and the cap on requests in flight.
#include <doctest/doctest.h>

#include "http/fakes.hpp"

using namespace sb::http;
using sb::http::test::Harness;
using sb::http::test::RecordingWatcher;

namespace {

std::string get(const std::string& path) { return "GET " + path + " HTTP/1.1\r\nHost: x\r\n\r\n"; }

std::string ok(const std::string& text) {
  return "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: " +
         std::to_string(text.size()) + "\r\n\r\n" + text;
}

}  // namespace

TEST_CASE("two pipelined requests answered out of order are written in order") {
  Harness h;
  h.handler.hold = true;
  h.feed(get("/first") + get("/second"));
  REQUIRE(h.handler.exchanges.size() == 2);
  CHECK(h.connection->in_flight() == 2);

  h.handler.exchanges[1]->send(Response::text(200, "text/plain", "second"));
  CHECK(h.transport.writes.empty());  // waits for /first

  h.handler.exchanges[0]->send(Response::text(200, "text/plain", "first"));
  CHECK(h.transport.wire() == ok("first") + ok("second"));
  CHECK(h.connection->in_flight() == 0);
  CHECK_FALSE(h.transport.closed);
}

TEST_CASE("beyond max_pipelined, parsing pauses and resumes when answers drain") {
  ConnectionLimits limits;
  limits.max_pipelined = 2;
  Harness h(limits);
  h.handler.hold = true;
  h.feed(get("/1") + get("/2") + get("/3") + get("/4"));
  CHECK(h.handler.requests.size() == 2);
  CHECK(h.transport.paused);

  // Bytes from a read already under way are kept, not parsed.
  h.feed(get("/5"));
  CHECK(h.handler.requests.size() == 2);

  h.handler.exchanges[0]->send(Response::text(200, "text/plain", "1"));
  CHECK(h.transport.wire() == ok("1"));
  // Parsing resumes on the next tick, not from inside send().
  CHECK(h.handler.requests.size() == 2);
  h.advance(0);
  CHECK(h.handler.requests.size() == 3);
  CHECK(h.handler.requests[2].path == "/3");
  CHECK(h.transport.paused);  // full again

  for (int i = 1; i < 5; ++i) {
    h.handler.exchanges[static_cast<std::size_t>(i)]->send(
        Response::text(200, "text/plain", std::to_string(i + 1)));
    h.advance(0);
  }
  REQUIRE(h.handler.requests.size() == 5);
  CHECK(h.handler.requests[4].path == "/5");
  CHECK(h.transport.wire() == ok("1") + ok("2") + ok("3") + ok("4") + ok("5"));
  CHECK_FALSE(h.transport.paused);
  CHECK(h.transport.resume_calls >= 1);
}

TEST_CASE("an error after held requests is written after their answers, then closes") {
  Harness h;
  h.handler.hold = true;
  h.feed(get("/held") + "GET / HTTP/1.1\r\nno colon\r\n\r\n");
  REQUIRE(h.handler.exchanges.size() == 1);
  CHECK(h.transport.writes.empty());
  CHECK_FALSE(h.transport.closed);

  h.handler.exchanges[0]->send(Response::text(200, "text/plain", "held"));
  const std::string wire = h.transport.wire();
  CHECK(wire.rfind(ok("held"), 0) == 0);
  CHECK(wire.find("HTTP/1.1 400 Bad Request\r\n", ok("held").size()) == ok("held").size());
  CHECK(wire.find("Connection: close\r\n") != std::string::npos);
  CHECK(h.transport.closed);
}

TEST_CASE("a closing answer loses the requests pipelined behind it") {
  Harness h;
  h.handler.hold = true;
  RecordingWatcher watcher;
  h.feed(get("/a") + get("/b"));
  REQUIRE(h.handler.exchanges.size() == 2);
  h.handler.exchanges[1]->watch(&watcher);
  Response bye = Response::text(200, "text/plain", "a");
  bye.close = true;
  h.handler.exchanges[0]->send(std::move(bye));
  CHECK(h.transport.closed);
  CHECK(watcher.lost.size() == 1);
  CHECK(watcher.lost[0] == h.handler.exchanges[1]);
  CHECK(h.transport.writes.size() == 1);
}

TEST_CASE("a client that does not read its answers is dropped") {
  ConnectionLimits limits;
  limits.max_unsent_bytes = 1000;
  Harness h(limits);
  h.feed(get("/1"));
  CHECK(h.transport.writes.size() == 1);
  h.transport.queued = 5000;  // the answers pile up unsent
  h.feed(get("/2"));
  CHECK(h.transport.closed);
  CHECK(h.transport.writes.size() == 1);
}

TEST_CASE("a backlog that grows while a request is held closes at the answer") {
  ConnectionLimits limits;
  limits.max_unsent_bytes = 1000;
  Harness h(limits);
  h.handler.hold = true;
  h.feed(get("/1"));
  h.transport.queued = 5000;
  h.handler.exchanges[0]->send(Response::text(200, "text/plain", "x"));
  CHECK(h.transport.closed);
  CHECK(h.transport.writes.empty());
}
