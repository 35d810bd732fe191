// BodyWriter: assembles one <body/> response. Every response declares the httpbind
// default namespace and the stream prefix (stream features and errors may be
// inside), so the server's elements can be copied in without rewriting.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "bosh/condition.hpp"
#include "http/exchange.hpp"

namespace sb::bosh {

inline constexpr std::string_view kHttpBindNs = "http://jabber.org/protocol/httpbind";
inline constexpr std::string_view kStreamNs = "http://etherx.jabber.org/streams";
inline constexpr std::string_view kXboshNs = "urn:xmpp:xbosh";

class BodyWriter {
 public:
  explicit BodyWriter(std::size_t payload_hint = 0);
  BodyWriter& attr(std::string_view name, std::string_view value);
  BodyWriter& attr(std::string_view name, std::uint64_t value);
  // type='terminate' with the condition (none for a clean end).
  BodyWriter& terminate(Condition condition);
  // Closes the element around `payload` (already well-formed XML) and returns it.
  std::string finish(std::string_view payload = {});

 private:
  std::string out_;
};

// <body type='terminate' condition='...'/> with an optional payload.
std::string terminate_body(Condition condition, std::string_view payload = {});

// The answer that tells one request its session is over (or was never found):
// the terminate body as `content_type`, or for a legacy client (no `ver`, §16) the
// HTTP error code where XEP-0124 gives one (400, 403, 404).
http::Response terminal_response(Condition condition, bool legacy,
                                 std::string_view content_type = "text/xml; charset=utf-8");

}  // namespace sb::bosh
