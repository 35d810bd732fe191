// The handshake decision; see handshake.hpp for the order of the checks and why
// each status was chosen. SHA-1 and base64 come from OpenSSL (EVP), as everywhere
// else in Switchboard.
#include "ws/handshake.hpp"

#include <openssl/evp.h>

#include <array>

#include "base/ascii_case.hpp"

namespace sb::ws {
namespace {

constexpr std::string_view kSpaces = " \t";

std::string_view trim(std::string_view s) {
  const std::size_t first = s.find_first_not_of(kSpaces);
  if (first == std::string_view::npos) return {};
  const std::size_t last = s.find_last_not_of(kSpaces);
  return s.substr(first, last - first + 1);
}

bool is_base64_char(char c) {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '+' ||
         c == '/';
}

HandshakeDecision refuse(int status, std::string_view reason) {
  HandshakeDecision decision;
  decision.refusal =
      http::Response::text(status, "text/plain; charset=utf-8", std::string(reason) + "\n");
  decision.refusal.close = true;
  decision.reason = reason;
  return decision;
}

}  // namespace

bool has_token(std::string_view list, std::string_view token, bool ignore_case) {
  while (!list.empty()) {
    const std::size_t comma = list.find(',');
    const std::string_view item = trim(list.substr(0, comma));
    if (ignore_case ? base::equals_ignoring_case(item, token) : item == token) return true;
    if (comma == std::string_view::npos) break;
    list.remove_prefix(comma + 1);
  }
  return false;
}

bool valid_websocket_key(std::string_view key) {
  key = trim(key);
  // 16 bytes = 128 bits = 21 whole sextets + 2 bits: 22 characters, then "==".
  if (key.size() != 24 || key[22] != '=' || key[23] != '=') return false;
  for (std::size_t i = 0; i < 22; ++i) {
    if (!is_base64_char(key[i])) return false;
  }
  return true;
}

std::string websocket_accept(std::string_view key) {
  key = trim(key);
  std::string input;
  input.reserve(key.size() + kWebSocketGuid.size());
  input.append(key).append(kWebSocketGuid);
  std::array<unsigned char, EVP_MAX_MD_SIZE> digest{};
  unsigned int digest_size = 0;
  if (EVP_Digest(input.data(), input.size(), digest.data(), &digest_size, EVP_sha1(), nullptr) !=
      1) {
    return {};
  }
  std::array<unsigned char, 64> encoded{};  // 20 bytes -> 28 characters + NUL
  const int n = EVP_EncodeBlock(encoded.data(), digest.data(), static_cast<int>(digest_size));
  return std::string(reinterpret_cast<const char*>(encoded.data()), static_cast<std::size_t>(n));
}

HandshakeDecision decide_handshake(const UpgradeRequest& request, const http::CorsPolicy& cors) {
  if (request.method != http::Method::kGet) {
    HandshakeDecision d = refuse(405, "a WebSocket handshake is a GET");
    d.refusal.extra_headers.emplace_back("Allow", "GET");
    return d;
  }
  if (request.version_major < 1 || (request.version_major == 1 && request.version_minor < 1)) {
    return refuse(400, "a WebSocket handshake needs HTTP/1.1");
  }
  if (!has_token(request.upgrade, "websocket", true) ||
      !has_token(request.connection, "upgrade", true)) {
    HandshakeDecision d = refuse(426, "this is a WebSocket endpoint (Upgrade: websocket)");
    d.refusal.extra_headers.emplace_back("Upgrade", "websocket");
    d.refusal.extra_headers.emplace_back("Connection", "Upgrade");
    return d;
  }
  if (trim(request.host).empty()) return refuse(400, "no Host header");
  if (trim(request.sec_websocket_version) != "13") {
    HandshakeDecision d = refuse(426, "unsupported Sec-WebSocket-Version (13 only)");
    d.refusal.extra_headers.emplace_back("Sec-WebSocket-Version", "13");
    return d;
  }
  if (!valid_websocket_key(request.sec_websocket_key)) return refuse(400, "bad Sec-WebSocket-Key");
  const std::string_view origin = trim(request.origin);
  if (!origin.empty() && !cors.allows(origin)) return refuse(403, "origin not allowed");
  if (!has_token(request.sec_websocket_protocol, kXmppSubprotocol, false)) {
    return refuse(400, "the xmpp subprotocol was not offered (RFC 7395)");
  }

  HandshakeDecision decision;
  decision.accepted = true;
  std::string& head = decision.response_head;
  head.reserve(160);
  head += "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n";
  head += "Sec-WebSocket-Accept: ";
  head += websocket_accept(request.sec_websocket_key);
  head += "\r\nSec-WebSocket-Protocol: xmpp\r\n\r\n";
  return decision;
}

}  // namespace sb::ws
