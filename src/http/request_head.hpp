// RequestHead: the request line and the header values that only a few handlers
// need, kept by the parser for those paths alone (ConnectionLimits::head_paths).
//
// Every request carries method, path, Origin, Content-Type and body (exchange.hpp).
// The WebSocket handshake (ws/handshake.hpp) also needs Host, Upgrade, Connection
// and the Sec-WebSocket-* values, and XEP-0156's host-meta needs Host (and, from a
// trusted proxy, X-Forwarded-Proto and X-Forwarded-Host) to name our URLs. Keeping those for every BOSH request would cost strings on the hot path,
// so they are read only for the configured paths and travel out of line
// (Request::head, null for every other request).
#pragma once

#include <cstdint>
#include <string>

#include "http/method.hpp"

namespace sb::http {

// Values as sent, surrounding whitespace trimmed. A header that appeared several
// times is joined with ", " (RFC 9110 §5.3); an absent one is empty.
struct RequestHead {
  Method method = Method::kOther;
  std::string path;
  std::uint8_t version_major = 1;
  std::uint8_t version_minor = 1;
  std::string host;
  std::string origin;
  std::string upgrade;
  std::string connection;
  std::string sec_websocket_key;
  std::string sec_websocket_version;
  std::string sec_websocket_protocol;
  std::string forwarded_proto;  // X-Forwarded-Proto
  std::string forwarded_host;   // X-Forwarded-Host
  // Not from the parser: the socket fills these in before dispatching (it knows
  // whether the connection is TLS and whose forwarding headers count), see
  // app/public_origin.hpp. `secure`: the client reached us over https; `public_host`:
  // the host a trusted proxy says the client asked for (empty: use `host`).
  bool secure = false;
  std::string public_host;
};

}  // namespace sb::http
