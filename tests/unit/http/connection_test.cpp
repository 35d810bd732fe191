// Connection basics: parsing, exact response bytes, keep-alive and versions,
// chunked bodies, split input, HEAD, Expect: 100-continue, CORS headers, and what
// happens when the peer goes away.
#include <doctest/doctest.h>

#include "http/fakes.hpp"

using namespace sb::http;
using sb::http::test::Harness;
using sb::http::test::RecordingWatcher;

namespace {

const std::string kPost =
    "POST /http-bind?x=1 HTTP/1.1\r\n"
    "Host: example.org\r\n"
    "content-TYPE: text/xml; charset=utf-8\r\n"
    "Content-Length: 7\r\n"
    "\r\n"
    "<body/>";

}  // namespace

TEST_CASE("a simple POST is parsed and answered with exact bytes") {
  Harness h;
  const auto body = std::make_shared<const std::string>("<body type='terminate'/>");
  h.handler.respond = [&](const Request&) {
    Response response;
    response.body = body;
    return response;
  };
  h.feed(kPost);

  REQUIRE(h.handler.requests.size() == 1);
  const Request& request = h.handler.requests[0];
  CHECK(request.method == Method::kPost);
  CHECK(request.path == "/http-bind");
  CHECK(request.content_type == "text/xml; charset=utf-8");
  CHECK(request.origin.empty());
  CHECK(request.body == "<body/>");
  CHECK(request.peer == "192.0.2.7");
  CHECK(request.keep_alive);

  CHECK(h.transport.wire() ==
        "HTTP/1.1 200 OK\r\n"
        "Content-Type: text/xml; charset=utf-8\r\n"
        "Content-Length: 24\r\n"
        "\r\n"
        "<body type='terminate'/>");
  REQUIRE(h.transport.writes.size() == 1);
  CHECK(h.transport.writes[0].body == body);  // the same buffer, not a copy
  CHECK_FALSE(h.transport.closed);
  CHECK(h.connection->in_flight() == 0);
}

TEST_CASE("every response carries a Date header in IMF-fixdate form") {
  Harness h;
  h.feed(kPost);
  REQUIRE(h.transport.dates.size() == 1);
  const std::string& date = h.transport.dates[0];
  // "Sun, 22 Nov 2026 10:02:23 GMT"
  CHECK(date.size() == 29);
  CHECK(date.substr(3, 2) == ", ");
  CHECK(date.substr(25) == " GMT");
}

TEST_CASE("keep-alive serves several requests, each fed separately") {
  Harness h;
  h.feed("GET /a HTTP/1.1\r\nHost: x\r\n\r\n");
  h.feed("GET /b HTTP/1.1\r\nHost: x\r\n\r\n");
  REQUIRE(h.handler.requests.size() == 2);
  CHECK(h.handler.requests[1].path == "/b");
  CHECK(h.transport.writes.size() == 2);
  CHECK(h.transport.wire().find("Connection:") == std::string::npos);
  CHECK_FALSE(h.transport.closed);
}

TEST_CASE("HTTP/1.0 closes unless it asks for keep-alive") {
  SUBCASE("plain HTTP/1.0") {
    Harness h;
    h.feed("GET /a HTTP/1.0\r\n\r\n");
    REQUIRE(h.handler.requests.size() == 1);
    CHECK_FALSE(h.handler.requests[0].keep_alive);
    CHECK(h.transport.wire().rfind("HTTP/1.1 200 OK\r\n", 0) == 0);
    CHECK(h.transport.wire().find("Connection: close\r\n") != std::string::npos);
    CHECK(h.transport.closed);
    CHECK(h.connection->closed());
  }
  SUBCASE("HTTP/1.0 with Connection: keep-alive") {
    Harness h;
    h.feed("GET /a HTTP/1.0\r\nConnection: keep-alive\r\n\r\n");
    CHECK(h.transport.wire().find("Connection: keep-alive\r\n") != std::string::npos);
    CHECK_FALSE(h.transport.closed);
    h.feed("GET /b HTTP/1.0\r\nConnection: keep-alive\r\n\r\n");
    CHECK(h.handler.requests.size() == 2);
  }
  SUBCASE("HTTP/1.1 with Connection: close, followed by more bytes") {
    Harness h;
    h.feed("GET /a HTTP/1.1\r\nConnection: close\r\n\r\nGET /b HTTP/1.1\r\n\r\n");
    CHECK(h.handler.requests.size() == 1);
    CHECK(h.transport.wire().find("Connection: close\r\n") != std::string::npos);
    CHECK(h.transport.closed);
  }
}

TEST_CASE("a response with close=true ends the connection after it") {
  Harness h;
  h.handler.respond = [](const Request&) {
    Response response = Response::text(200, "text/plain", "bye");
    response.close = true;
    return response;
  };
  h.feed("GET /a HTTP/1.1\r\n\r\n");
  CHECK(h.transport.wire() ==
        "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 3\r\n"
        "Connection: close\r\n\r\nbye");
  CHECK(h.transport.close_calls == 1);
  h.feed("GET /b HTTP/1.1\r\n\r\n");
  CHECK(h.handler.requests.size() == 1);
  CHECK_FALSE(h.transport.wrote_after_close);
}

TEST_CASE("a chunked body is de-chunked") {
  Harness h;
  h.feed(
      "POST /c HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n"
      "5\r\nhello\r\n"
      "7;ext=1\r\n, world\r\n"
      "0\r\n\r\n");
  REQUIRE(h.handler.requests.size() == 1);
  CHECK(h.handler.requests[0].body == "hello, world");
  CHECK(h.transport.wire().find("/c:hello, world") != std::string::npos);
}

TEST_CASE("requests split at every byte boundary parse the same") {
  const std::string stream =
      kPost +
      "POST /chunked HTTP/1.1\r\nOrigin: https://a.example\r\nTransfer-Encoding: chunked\r\n\r\n"
      "3\r\nabc\r\n0\r\n\r\n"
      "GET /last?q HTTP/1.1\r\n\r\n";
  const auto check = [](const Harness& h) {
    REQUIRE(h.handler.requests.size() == 3);
    CHECK(h.handler.requests[0].body == "<body/>");
    CHECK(h.handler.requests[0].content_type == "text/xml; charset=utf-8");
    CHECK(h.handler.requests[1].path == "/chunked");
    CHECK(h.handler.requests[1].origin == "https://a.example");
    CHECK(h.handler.requests[1].body == "abc");
    CHECK(h.handler.requests[2].path == "/last");
    CHECK(h.transport.writes.size() == 3);
  };
  for (std::size_t cut = 1; cut < stream.size(); ++cut) {
    Harness h;
    h.feed(std::string_view(stream).substr(0, cut));
    h.feed(std::string_view(stream).substr(cut));
    check(h);
  }
  Harness one_by_one;
  for (const char c : stream) one_by_one.feed(std::string_view(&c, 1));
  check(one_by_one);
}

TEST_CASE("fed bytes are not kept after feed() returns") {
  Harness h;
  std::string buffer = "POST /x HTTP/1.1\r\nContent-Length: 4\r\n\r\nab";
  h.feed(buffer);
  buffer.assign(buffer.size(), '#');  // the shared read buffer is reused
  h.feed("cd");
  REQUIRE(h.handler.requests.size() == 1);
  CHECK(h.handler.requests[0].body == "abcd");
}

TEST_CASE("HEAD keeps Content-Length but sends no body, 204 has neither") {
  Harness h;
  h.handler.respond = [](const Request& request) {
    if (request.path == "/empty") return Response::text(204, "text/plain", "");
    return Response::text(200, "text/html", "<p>hello</p>");
  };
  h.feed("HEAD /page HTTP/1.1\r\n\r\n");
  REQUIRE(h.transport.writes.size() == 1);
  CHECK(h.transport.writes[0].head ==
        "HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nContent-Length: 12\r\n\r\n");
  CHECK(h.transport.writes[0].body == nullptr);
  h.feed("GET /empty HTTP/1.1\r\n\r\n");
  REQUIRE(h.transport.writes.size() == 2);
  CHECK(h.transport.writes[1].head == "HTTP/1.1 204 No Content\r\n\r\n");
  CHECK(h.transport.writes[1].body == nullptr);
}

TEST_CASE("extra headers are written, header injection is dropped") {
  Harness h;
  h.handler.respond = [](const Request&) {
    Response response = Response::text(200, "text/plain", "x");
    response.extra_headers = {{"Cache-Control", "no-store"}, {"X-Bad", "a\r\nSet-Cookie: y"}};
    return response;
  };
  h.feed("GET / HTTP/1.1\r\n\r\n");
  CHECK(h.transport.wire() ==
        "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 1\r\n"
        "Cache-Control: no-store\r\n\r\nx");
}

TEST_CASE("Expect: 100-continue gets an interim response before the body") {
  Harness h;
  h.feed("POST /x HTTP/1.1\r\nExpect: 100-Continue\r\nContent-Length: 3\r\n\r\n");
  CHECK(h.transport.wire() == "HTTP/1.1 100 Continue\r\n\r\n");
  CHECK(h.handler.requests.empty());
  h.feed("abc");
  REQUIRE(h.handler.requests.size() == 1);
  CHECK(h.transport.wire() ==
        "HTTP/1.1 100 Continue\r\n\r\n"
        "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 6\r\n\r\n/x:abc");
}

TEST_CASE("100 Continue waits for the answers owed to earlier requests") {
  Harness h;
  h.handler.hold = true;
  h.feed("GET /held HTTP/1.1\r\n\r\n");
  h.feed("POST /x HTTP/1.1\r\nExpect: 100-continue\r\nContent-Length: 3\r\n\r\n");
  CHECK(h.transport.writes.empty());
  h.handler.exchanges[0]->send(Response::text(200, "text/plain", "held"));
  CHECK(h.transport.wire() ==
        "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 4\r\n\r\nheld"
        "HTTP/1.1 100 Continue\r\n\r\n");
}

TEST_CASE("CORS headers follow the policy") {
  const auto response_to = [](CorsPolicy policy, const std::string& origin_header) {
    Harness h({}, std::move(policy));
    h.feed("GET /x HTTP/1.1\r\n" + origin_header + "\r\n");
    return h.transport.wire();
  };
  const std::string allowed =
      response_to(CorsPolicy({"https://chat.example"}), "Origin: https://chat.example\r\n");
  CHECK(allowed.find("Access-Control-Allow-Origin: https://chat.example\r\nVary: Origin\r\n") !=
        std::string::npos);

  const std::string denied =
      response_to(CorsPolicy({"https://chat.example"}), "Origin: https://evil.example\r\n");
  CHECK(denied.find("Access-Control") == std::string::npos);

  const std::string any = response_to(CorsPolicy({"*"}), "Origin: https://any.example\r\n");
  CHECK(any.find("Access-Control-Allow-Origin: *\r\n") != std::string::npos);
  CHECK(any.find("Vary") == std::string::npos);

  const std::string no_origin = response_to(CorsPolicy({"*"}), "");
  CHECK(no_origin.find("Access-Control") == std::string::npos);
}

TEST_CASE("peer_closed loses held requests and nothing is written after") {
  Harness h;
  h.handler.hold = true;
  RecordingWatcher watcher;
  h.feed("GET /a HTTP/1.1\r\n\r\nGET /b HTTP/1.1\r\n\r\n");
  REQUIRE(h.handler.exchanges.size() == 2);
  h.handler.exchanges[0]->watch(&watcher);
  h.handler.exchanges[1]->watch(&watcher);
  // A watcher that answers its other request on being told: must be harmless.
  Exchange* second = h.handler.exchanges[1];
  watcher.on_lost = [&](Exchange& lost) {
    if (&lost != second) second->send(Response::text(200, "text/plain", "late"));
  };

  h.connection->peer_closed();
  REQUIRE(watcher.lost.size() == 1);  // the second was answered from inside the first loss
  CHECK(watcher.lost[0] == h.handler.exchanges[0]);
  CHECK(h.transport.writes.empty());
  CHECK(h.transport.closed);
  CHECK(h.connection->in_flight() == 0);
  h.feed("GET /c HTTP/1.1\r\n\r\n");
  CHECK(h.handler.requests.size() == 2);
  h.connection.reset();  // the owner frees it later; nothing else happens
  CHECK(watcher.lost.size() == 1);
}

TEST_CASE("destroying a connection with held requests tells their watchers") {
  Harness h;
  h.handler.hold = true;
  RecordingWatcher watcher;
  h.feed("GET /a HTTP/1.1\r\n\r\n");
  h.handler.exchanges[0]->watch(&watcher);
  h.connection.reset();
  CHECK(watcher.lost.size() == 1);
  CHECK(h.transport.close_calls == 0);
}

TEST_CASE("a request answered from inside handle() with pipelined followers") {
  Harness h;
  h.feed("GET /1 HTTP/1.1\r\n\r\nGET /2 HTTP/1.1\r\n\r\nGET /3 HTTP/1.1\r\n\r\n");
  CHECK(h.handler.requests.size() == 3);
  CHECK(h.transport.writes.size() == 3);
  CHECK(h.connection->in_flight() == 0);
}

TEST_CASE("stray CRLFs between requests and absolute-form targets are accepted") {
  Harness h;
  h.feed("GET /a HTTP/1.1\r\n\r\n\r\nGET http://example.org/b?q=1 HTTP/1.1\r\n\r\n");
  REQUIRE(h.handler.requests.size() == 2);
  CHECK(h.handler.requests[1].path == "/b");
}

TEST_CASE("a second send() on the same exchange is ignored") {
  Harness h;
  h.handler.hold = true;
  h.feed("GET /a HTTP/1.1\r\n\r\nGET /b HTTP/1.1\r\n\r\n");
  Exchange* second = h.handler.exchanges[1];
  second->send(Response::text(200, "text/plain", "b"));
  second->send(Response::text(500, "text/plain", "again"));
  h.handler.exchanges[0]->send(Response::text(200, "text/plain", "a"));
  CHECK(h.transport.writes.size() == 2);
  CHECK(h.transport.wire().find("500") == std::string::npos);
}

TEST_CASE("a connection stays small") {
  // A million idle connections must fit: llhttp's state, one timer node, a few
  // pointers and the peer address, nothing that grows while idle.
  MESSAGE("sizeof(Connection) = " << sizeof(Connection));
  CHECK(sizeof(Connection) <= 320);
}

TEST_CASE("an Upgrade request is answered as plain HTTP and the connection closes") {
  Harness h;
  h.feed(
      "GET /ws HTTP/1.1\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n\r\n"
      "\x81\x85garbage-in-another-protocol");
  REQUIRE(h.handler.requests.size() == 1);
  CHECK(h.transport.writes.size() == 1);
  CHECK(h.transport.wire().find("Connection: close\r\n") != std::string::npos);
  CHECK(h.transport.closed);
}
