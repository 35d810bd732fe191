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
  bool terminate = false;              // type='terminate'
  bool restart = false;                // xmpp:restart='true'
  std::optional<std::uint32_t> pause;  // pause='N'
  std::string payload;                 // the stanzas for the server, namespace-fixed
  std::size_t payload_elements = 0;
  std::optional<std::uint64_t> ack;  // response ack: the client has all responses up to it
  std::optional<std::string> key;    // key sequencing (§15)
  std::optional<std::string> newkey;

  // An empty poll: nothing for the server and no special meaning (§11 overactivity).
  bool empty_poll() const { return payload.empty() && !terminate && !restart && !pause; }
};

}  // namespace sb::bosh
