// Moving an HTTP connection to another process (an upgrade in place): when it
// may move, its record and the record's byte form, the requests in flight
// rebuilt on a new Connection and answered there in order, with the CORS
// decision they had, and the old connection letting go without a word.
#include <doctest/doctest.h>

#include "http/connection_record.hpp"
#include "http/fakes.hpp"

using namespace sb::http;
using sb::http::test::Harness;
using sb::http::test::RecordingWatcher;

namespace {

std::string post(std::string_view origin = {}) {
  std::string head = "POST /http-bind HTTP/1.1\r\nHost: example.org\r\nContent-Length: 7\r\n";
  if (!origin.empty()) head += "Origin: " + std::string(origin) + "\r\n";
  return head + "\r\n<body/>";
}

Response text(std::string body) {
  return Response::text(200, "text/xml; charset=utf-8", std::move(body));
}

}  // namespace

TEST_CASE(
    "a connection between requests, with requests held, may move, and one mid-request may not") {
  Harness h;
  h.handler.hold = true;
  CHECK(h.connection->movable());  // idle
  h.feed(post());
  CHECK(h.connection->movable());  // one request held
  h.feed(post().substr(0, 20));
  CHECK_FALSE(h.connection->movable());  // a request half read
}

TEST_CASE("a connection with an answer not yet written in order may not move") {
  Harness h;
  h.handler.hold = true;
  h.feed(post());
  h.feed(post());
  REQUIRE(h.handler.exchanges.size() == 2);
  h.handler.exchanges[1]->send(text("<body/>"));  // waits for the first
  CHECK_FALSE(h.connection->movable());
}

TEST_CASE("a request asking to close the connection after it keeps it from moving") {
  Harness h;
  h.handler.hold = true;
  h.feed("POST /http-bind HTTP/1.1\r\nConnection: close\r\nContent-Length: 7\r\n\r\n<body/>");
  CHECK_FALSE(h.connection->movable());
}

TEST_CASE(
    "the record lists the requests in flight with their CORS decisions, and its bytes round-trip") {
  Harness h({}, CorsPolicy({"https://chat.example"}));
  h.handler.hold = true;
  h.feed(post("https://chat.example"));
  h.feed(post());
  const ConnectionRecord record = h.connection->record();
  CHECK(record.peer == "192.0.2.7");
  REQUIRE(record.in_flight.size() == 2);
  CHECK(record.in_flight[0].cors == "https://chat.example");
  CHECK(record.in_flight[1].cors.empty());

  ConnectionRecord back;
  std::string error;
  REQUIRE(decode(encode(record), back, error));
  CHECK(back.peer == record.peer);
  REQUIRE(back.in_flight.size() == 2);
  CHECK(back.in_flight[0].cors == "https://chat.example");
  CHECK_FALSE(back.in_flight[0].head_only);
}

TEST_CASE("damaged or newer connection records are refused with a reason") {
  ConnectionRecord record;
  record.peer = "198.51.100.4";
  record.in_flight.push_back({"*", false, false});
  const std::string bytes = encode(record);
  ConnectionRecord out;
  std::string error;
  for (std::size_t cut = 0; cut < bytes.size(); ++cut) {
    CHECK_FALSE(decode(bytes.substr(0, cut), out, error));
  }
  std::string newer = bytes;
  newer[4] = 9;  // the version, after the four-byte mark
  CHECK_FALSE(decode(newer, out, error));
  CHECK(error.find("newer") != std::string::npos);
  CHECK_FALSE(decode(bytes + "x", out, error));
}

TEST_CASE(
    "requests rebuilt on a new connection are answered there, in order, with their CORS headers") {
  Harness from({}, CorsPolicy({"https://chat.example"}));
  from.handler.hold = true;
  from.feed(post("https://chat.example"));
  from.feed(post());
  const ConnectionRecord record = from.connection->record();
  RecordingWatcher watcher;
  for (Exchange* e : from.connection->waiting_exchanges()) e->watch(&watcher);
  from.connection->let_go();
  CHECK(from.transport.wire().empty());  // nothing said to the client
  CHECK_FALSE(from.transport.closed);    // and the socket is the owner's to close quietly
  CHECK(watcher.lost.empty());           // the requests moved: nobody is told they are lost

  // The next process lists no origin at all: the request keeps its answer.
  Harness to;
  std::vector<Exchange*> moved = to.connection->adopt_in_flight(record, to.cors);
  REQUIRE(moved.size() == 2);
  CHECK(to.connection->peer() == "192.0.2.7");
  CHECK(to.connection->in_flight() == 2);
  moved[1]->send(text("<body id='2'/>"));
  CHECK(to.transport.wire().empty());  // waits for the first, as before the move
  moved[0]->send(text("<body id='1'/>"));
  const std::string wire = to.transport.wire();
  const auto first = wire.find("<body id='1'/>");
  const auto second = wire.find("<body id='2'/>");
  REQUIRE(first != std::string::npos);
  REQUIRE(second != std::string::npos);
  CHECK(first < second);
  CHECK(wire.find("Access-Control-Allow-Origin: https://chat.example") < first);
  CHECK(wire.find("Access-Control-Allow-Origin", first) == std::string::npos);

  // And it goes on parsing requests on the same connection.
  to.handler.hold = false;
  to.feed(post());
  CHECK(to.handler.requests.size() == 1);
}

TEST_CASE("an idle connection rebuilt elsewhere waits for its next request with the idle timeout") {
  Harness to;
  ConnectionRecord record;
  record.peer = "203.0.113.9";
  CHECK(to.connection->adopt_in_flight(record, to.cors).empty());
  CHECK(to.connection->peer() == "203.0.113.9");
  to.advance(to.limits.idle_timeout_ms + 100);
  CHECK(to.transport.closed);
}
