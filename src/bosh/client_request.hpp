// ClientRequest: what the engine needs from one parsed <body/> request, taken out of
// the XML once by the endpoint so Session works on plain fields.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

namespace sb::bosh {

// The largest rid XEP-0124 allows (2^53 - 1).
inline constexpr std::uint64_t kMaxRid = (std::uint64_t{1} << 53) - 1;

struct ClientRequest {
  std::uint64_t rid = 0;
  bool terminate = false;     // type='terminate'
  bool restart = false;       // xmpp:restart='true'
  std::optional<std::uint32_t> pause;  // pause='N'
  std::string payload;        // the stanzas for the server, namespace-fixed
  std::size_t payload_elements = 0;
};

// The attributes only a session creation request carries.
struct CreationRequest {
  std::string to;
  std::string route;       // "xmpp:host:port" or empty
  std::string from;
  std::string lang;        // xml:lang
  std::string ver;         // empty = legacy client
  std::string content;     // Content-Type for responses, empty = default
  std::string xmpp_version;
  std::optional<std::uint32_t> wait;
  std::optional<std::uint32_t> hold;
  bool ack = false;        // ack='1'
};

}  // namespace sb::bosh
