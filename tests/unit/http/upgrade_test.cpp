// Upgrade requests: the RequestHead the parser keeps for the configured paths,
// and the switch of protocols (Exchange::switch_protocols) in request order, with
// the bytes that followed the request handed on.
#include <doctest/doctest.h>

#include "http/fakes.hpp"

using namespace sb::http;
using sb::http::test::Harness;

namespace {

constexpr std::string_view kSwitch =
    "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n\r\n";

ConnectionLimits ws_limits() {
  ConnectionLimits limits;
  limits.head_paths = {"/ws"};
  return limits;
}

std::string upgrade_request(const std::string& path = "/ws") {
  return "GET " + path +
         " HTTP/1.1\r\nHost: chat.example\r\nUpgrade: websocket\r\n"
         "Connection: keep-alive, Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
         "Sec-WebSocket-Version: 13\r\nSec-WebSocket-Protocol: chat\r\n"
         "Sec-WebSocket-Protocol:  xmpp \r\nOrigin: http://page.example\r\n\r\n";
}

std::string get(const std::string& path) { return "GET " + path + " HTTP/1.1\r\nHost: x\r\n\r\n"; }

}  // namespace

TEST_CASE("the parser keeps a RequestHead only for the configured paths") {
  Harness h(ws_limits());
  h.handler.hold = true;
  h.feed(get("/other"));
  REQUIRE(h.handler.requests.size() == 1);
  CHECK(h.handler.requests[0].head == nullptr);

  Harness w(ws_limits());
  w.handler.hold = true;
  w.feed(upgrade_request());
  REQUIRE(w.handler.requests.size() == 1);
  const Request& request = w.handler.requests[0];
  CHECK(request.upgrade);
  REQUIRE(request.head != nullptr);
  const RequestHead& head = *request.head;
  CHECK(head.method == Method::kGet);
  CHECK(head.path == "/ws");
  CHECK(head.version_major == 1);
  CHECK(head.version_minor == 1);
  CHECK(head.host == "chat.example");
  CHECK(head.origin == "http://page.example");
  CHECK(head.upgrade == "websocket");
  CHECK(head.connection == "keep-alive, Upgrade");
  CHECK(head.sec_websocket_key == "dGhlIHNhbXBsZSBub25jZQ==");
  CHECK(head.sec_websocket_version == "13");
  CHECK(head.sec_websocket_protocol == "chat, xmpp");  // repeated: one list
}

TEST_CASE("an accepted upgrade hands the socket on with the bytes after the request") {
  Harness h(ws_limits());
  h.handler.hold = true;
  h.feed(upgrade_request() +
         "\x81\x85"
         "frame");
  REQUIRE(h.handler.exchanges.size() == 1);
  h.feed("more");  // read before the answer: kept for the next protocol
  h.handler.exchanges[0]->switch_protocols(std::string(kSwitch));
  CHECK(h.transport.switched);
  CHECK(h.transport.switch_head == kSwitch);
  CHECK(h.transport.switch_bytes ==
        "\x81\x85"
        "framemore");
  CHECK(h.transport.writes.empty());  // the 101 goes through switch_protocols alone
  CHECK_FALSE(h.transport.closed);
  CHECK(h.connection->closed());  // inert from now on
  h.feed(get("/after"));
  CHECK(h.handler.requests.size() == 1);
  CHECK_FALSE(h.transport.wrote_after_close);
}

TEST_CASE("an upgrade answered at once, inside the handler, still gets the bytes after it") {
  Harness h(ws_limits());
  h.handler.hold = true;
  h.feed(upgrade_request() + "tail");
  h.handler.exchanges[0]->switch_protocols(std::string(kSwitch));
  CHECK(h.transport.switch_bytes == "tail");
}

TEST_CASE("after pipelined requests the 101 waits for their answers, in order") {
  Harness h(ws_limits());
  h.handler.hold = true;
  h.feed(get("/first") + upgrade_request());
  REQUIRE(h.handler.exchanges.size() == 2);
  h.handler.exchanges[1]->switch_protocols(std::string(kSwitch));
  CHECK_FALSE(h.transport.switched);  // /first is still owed
  h.handler.exchanges[0]->send(Response::text(200, "text/plain", "first"));
  REQUIRE(h.transport.writes.size() == 1);
  CHECK(h.transport.writes[0].head.find("200 OK") != std::string::npos);
  CHECK(h.transport.switched);
  CHECK_FALSE(h.transport.closed);
}

TEST_CASE("a refused upgrade is an ordinary answer, and the connection closes after it") {
  Harness h(ws_limits());
  h.handler.hold = true;
  h.feed(upgrade_request() + "not http");
  Response refusal = Response::text(403, "text/plain", "no\n");
  refusal.close = true;
  h.handler.exchanges[0]->send(std::move(refusal));
  CHECK_FALSE(h.transport.switched);
  REQUIRE(h.transport.writes.size() == 1);
  CHECK(h.transport.writes[0].head.find("403 Forbidden") != std::string::npos);
  CHECK(h.transport.closed);
  CHECK(h.handler.requests.size() == 1);  // "not http" was never parsed
}

TEST_CASE("any answer to an upgrade request that does not switch ends the connection") {
  Harness h(ws_limits());
  h.feed(upgrade_request());  // answered 200 by the echo handler, no close asked
  REQUIRE(h.transport.writes.size() == 1);
  CHECK(h.transport.writes[0].head.find("Connection: close") != std::string::npos);
  CHECK(h.transport.closed);
}

TEST_CASE("switch_protocols on a request that is not an upgrade is answered 500") {
  Harness h(ws_limits());
  h.handler.hold = true;
  h.feed(get("/ws"));  // the right path, but no Upgrade header
  REQUIRE(h.handler.exchanges.size() == 1);
  h.handler.exchanges[0]->switch_protocols(std::string(kSwitch));
  CHECK_FALSE(h.transport.switched);
  REQUIRE(h.transport.writes.size() == 1);
  CHECK(h.transport.writes[0].head.find("500") != std::string::npos);
}

TEST_CASE("bytes piling up before the 101 are bounded") {
  ConnectionLimits limits = ws_limits();
  limits.max_header_bytes = 1024;
  limits.max_body_bytes = 1024;
  Harness h(limits);
  h.handler.hold = true;
  h.feed(upgrade_request());
  h.feed(std::string(1500, 'x'));
  CHECK_FALSE(h.transport.closed);
  h.feed(std::string(1000, 'x'));
  CHECK(h.transport.closed);  // the exchange is lost with it (freed: not touched again)
  CHECK_FALSE(h.transport.switched);
}
