// The RFC 6455 / RFC 7395 opening handshake (ws/handshake.hpp).
#include <doctest/doctest.h>

#include <string>

#include "ws/handshake.hpp"

using sb::http::CorsPolicy;
using sb::ws::decide_handshake;
using sb::ws::UpgradeRequest;

namespace {

UpgradeRequest good_request() {
  UpgradeRequest r;
  r.method = sb::http::Method::kGet;
  r.path = "/xmpp-websocket";
  r.host = "chat.example:5280";
  r.origin = "https://chat.example";
  r.upgrade = "websocket";
  r.connection = "Upgrade";
  r.sec_websocket_key = "dGhlIHNhbXBsZSBub25jZQ==";
  r.sec_websocket_version = "13";
  r.sec_websocket_protocol = "xmpp";
  return r;
}

bool has_header(const sb::http::Response& r, std::string_view name, std::string_view value) {
  for (const auto& [n, v] : r.extra_headers) {
    if (n == name && v == value) return true;
  }
  return false;
}

const CorsPolicy kAny({"*"});

}  // namespace

TEST_CASE("the RFC 6455 sample key gives the sample accept value") {
  CHECK(sb::ws::websocket_accept("dGhlIHNhbXBsZSBub25jZQ==") == "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=");
}

TEST_CASE("an accepted handshake gets the exact 101 head") {
  const auto d = decide_handshake(good_request(), kAny);
  REQUIRE(d.accepted);
  CHECK(d.response_head ==
        "HTTP/1.1 101 Switching Protocols\r\n"
        "Upgrade: websocket\r\n"
        "Connection: Upgrade\r\n"
        "Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n"
        "Sec-WebSocket-Protocol: xmpp\r\n"
        "\r\n");
}

TEST_CASE("tokens are found in lists, case-insensitively where the RFC says so") {
  auto r = good_request();
  r.upgrade = "WebSocket";
  r.connection = "keep-alive, Upgrade";
  r.sec_websocket_protocol = "chat, xmpp , other";
  CHECK(decide_handshake(r, kAny).accepted);
  r.connection = "keep-alive,upgrade";
  CHECK(decide_handshake(r, kAny).accepted);
  CHECK(sb::ws::has_token(" a ,b", "b", false));
  CHECK_FALSE(sb::ws::has_token("upgrades", "upgrade", true));
  CHECK_FALSE(sb::ws::has_token("XMPP", "xmpp", false));  // subprotocol names are exact
}

TEST_CASE("method and version") {
  auto r = good_request();
  r.method = sb::http::Method::kPost;
  auto d = decide_handshake(r, kAny);
  CHECK_FALSE(d.accepted);
  CHECK(d.refusal.status == 405);
  CHECK(has_header(d.refusal, "Allow", "GET"));
  CHECK(d.refusal.close);
  r = good_request();
  r.version_minor = 0;
  CHECK(decide_handshake(r, kAny).refusal.status == 400);
}

TEST_CASE("a plain GET without Upgrade is told to upgrade (426)") {
  auto r = good_request();
  r.upgrade.clear();
  auto d = decide_handshake(r, kAny);
  CHECK(d.refusal.status == 426);
  CHECK(has_header(d.refusal, "Upgrade", "websocket"));
  r = good_request();
  r.connection = "keep-alive";
  CHECK(decide_handshake(r, kAny).refusal.status == 426);
}

TEST_CASE("Host is required") {
  auto r = good_request();
  r.host = "  ";
  CHECK(decide_handshake(r, kAny).refusal.status == 400);
}

TEST_CASE("only version 13: 426 naming it") {
  for (const char* version : {"8", "", "14", "13, 8"}) {
    auto r = good_request();
    r.sec_websocket_version = version;
    const auto d = decide_handshake(r, kAny);
    CHECK(d.refusal.status == 426);
    CHECK(has_header(d.refusal, "Sec-WebSocket-Version", "13"));
  }
}

TEST_CASE("the key must be base64 of 16 bytes") {
  CHECK(sb::ws::valid_websocket_key("dGhlIHNhbXBsZSBub25jZQ=="));
  CHECK(sb::ws::valid_websocket_key(" AAAAAAAAAAAAAAAAAAAAAA== "));
  for (const char* key : {"", "dGhlIHNhbXBsZSBub25jZQ", "dGhlIHNhbXBsZSBub25jZQ=",
                          "dGhlIHNhbXBsZSBub25jZSE=",  // 17 bytes
                          "dGhlIHNhbXBsZSBub25j",      // 15 bytes
                          "dGhlIHNhbXBsZSBub25j*Q==", "dGhlIHNhbXBsZSBub25jZQ==AA"}) {
    auto r = good_request();
    r.sec_websocket_key = key;
    CHECK_MESSAGE(decide_handshake(r, kAny).refusal.status == 400, key);
  }
}

TEST_CASE("Origin is checked against the CORS policy: 403 when refused") {
  const CorsPolicy narrow({"https://chat.example"});
  auto r = good_request();
  CHECK(decide_handshake(r, narrow).accepted);
  r.origin = "https://evil.example";
  const auto d = decide_handshake(r, narrow);
  CHECK(d.refusal.status == 403);
  CHECK(d.reason == "origin not allowed");
  r.origin.clear();  // not a browser: nothing to protect
  CHECK(decide_handshake(r, narrow).accepted);
}

TEST_CASE("no xmpp subprotocol offered: refused with 400") {
  for (const char* offered : {"", "chat", "xmpp-legacy", "XMPP"}) {
    auto r = good_request();
    r.sec_websocket_protocol = offered;
    const auto d = decide_handshake(r, kAny);
    CHECK_FALSE(d.accepted);
    CHECK(d.refusal.status == 400);
    CHECK(d.response_head.empty());
    REQUIRE(d.refusal.body);
    CHECK(d.refusal.body->find("xmpp") != std::string::npos);
  }
}
