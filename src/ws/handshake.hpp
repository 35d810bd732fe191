// The RFC 6455 opening handshake for XMPP over WebSocket (RFC 7395 §3.1), decided
// from plain header values so that it needs no socket and no llhttp.
//
// The HTTP layer (later glue) fills an UpgradeRequest from the request head and asks
// decide_handshake() what to do. Either the request is accepted, and the answer is
// the exact "101 Switching Protocols" head to write before the socket switches to
// WebSocket frames, or it is refused with an ordinary http::Response (status, a few
// headers, a one-line text body, Connection: close) that goes out through the normal
// HTTP path. The checks, in this order:
//
//   method GET                                   else 405, Allow: GET
//   HTTP/1.1 or later                            else 400
//   Upgrade has the token "websocket" and
//   Connection has the token "upgrade"
//   (both case-insensitive)                      else 426, Upgrade: websocket
//   Host present                                 else 400
//   Sec-WebSocket-Version is 13                  else 426, Sec-WebSocket-Version: 13
//   Sec-WebSocket-Key is base64 of 16 bytes      else 400
//   Origin absent or allowed by the CorsPolicy   else 403
//   "xmpp" among Sec-WebSocket-Protocol's tokens else 400
//
// Why 400 for a missing "xmpp": RFC 7395 §3.1 says the client MUST offer "xmpp" and
// the server's reply MUST contain it "in order for an XMPP subprotocol connection to
// be established"; a server that cannot agree on a subprotocol answers, per RFC 6455
// §4.2.1, "an HTTP response with an appropriate error code (such as 400 Bad
// Request)" when the request is not one it will serve. Accepting the upgrade without
// the header (also allowed by RFC 6455 §4.2.2) would only make the client open a
// socket it MUST then close (RFC 7395 §3.1), so we refuse in HTTP where the reason
// can still be read. (Prosody's mod_websocket answers 501 here.)
//
// A missing Origin is allowed: browsers always send one, other clients (Strophe in
// Node, bots) may not, and Origin protects only browsers (RFC 6455 §10.2).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "http/cors.hpp"
#include "http/exchange.hpp"
#include "http/request_head.hpp"

namespace sb::ws {

inline constexpr std::string_view kWebSocketGuid = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";
inline constexpr std::string_view kXmppSubprotocol = "xmpp";

// The header values of an upgrade request, as the HTTP layer read them
// (http/request_head.hpp).
using UpgradeRequest = http::RequestHead;

struct HandshakeDecision {
  bool accepted = false;
  std::string response_head;  // accepted: the whole 101 head, "\r\n\r\n" included
  http::Response refusal;     // refused: what to answer instead
  std::string_view reason;    // refused: a few words for the log
};

HandshakeDecision decide_handshake(const UpgradeRequest& request, const http::CorsPolicy& cors);

// base64(SHA-1(key + GUID)), the Sec-WebSocket-Accept value (RFC 6455 §4.2.2).
std::string websocket_accept(std::string_view key);

// Whether a comma-separated header value lists `token` (ASCII case-insensitive when
// `ignore_case`), e.g. "keep-alive, Upgrade" lists "upgrade".
bool has_token(std::string_view list, std::string_view token, bool ignore_case);

// Whether `key` is base64 (with padding) of exactly 16 bytes.
bool valid_websocket_key(std::string_view key);

}  // namespace sb::ws
