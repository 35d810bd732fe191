// Parsing the <body/> a browser POSTs (XEP-0124 wrapper) with pugixml: its attributes
// under canonical names, and its children re-serialized as the payload to forward to
// the XMPP server.
//
// A client body is hostile until proven otherwise, and its payload goes into a stream
// shared with nothing but this session: anything the server would choke on (and end
// the stream, and so the session, for) is refused here with a precise BodyError:
// invalid UTF-8, illegal control characters, DOCTYPEs, custom entity references,
// unbound prefixes, excessive nesting, character data directly inside <body/>.
//
// Payload namespaces (XEP-0206, checklist X2): a child that only inherited the
// httpbind default namespace is given xmlns='jabber:client'; a child declaring its
// own xmlns keeps it; prefixes a child uses but <body/> declares are re-declared on
// the child, since the server sees the child without its <body/>.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace sb::xml {

inline constexpr std::string_view kHttpBindNamespace = "http://jabber.org/protocol/httpbind";
inline constexpr std::string_view kXBoshNamespace = "urn:xmpp:xbosh";

struct BodyLimits {
  std::size_t max_depth = 64;  // element nesting, <body/> itself being depth 1
};

enum class BodyError : std::uint8_t {
  kNone,
  kNotXml,          // not well-formed (or not namespace-well-formed) XML
  kNotBody,         // the root element is not <body/>
  kWrongNamespace,  // the root is not in http://jabber.org/protocol/httpbind
  kDoctype,
  kEntity,  // a reference to an entity other than the 5 predefined ones
  kTooDeep,
  kCharacterData,  // non-whitespace text directly inside <body/>
  kInvalidUtf8,
};

// A short English phrase for logs, e.g. "invalid UTF-8".
std::string_view body_error_text(BodyError error);

struct BoshBody {
  // Attributes of <body/>, keyed canonically: unprefixed names as written ("rid",
  // "sid", "to", "wait"...), "xml:lang", attributes in namespace urn:xmpp:xbosh as
  // "xmpp:NAME" whatever prefix the client bound to it ("xmpp:version",
  // "xmpp:restart"), any other namespaced one as "{namespace-uri}NAME". Namespace
  // declarations are not attributes and are not listed. Values are decoded.
  const std::string* attribute(std::string_view canonical_name) const;  // nullptr if absent
  std::vector<std::pair<std::string, std::string>> attributes;
  // The children, each re-serialized (pugixml format_raw, no declaration) with the
  // namespace fix-ups, concatenated: what to write to the XMPP server.
  std::string payload;
  std::size_t payload_elements = 0;
};

// Parses one request body. `out` is overwritten; on error its content is unspecified.
BodyError parse_body(std::string_view bytes, BoshBody& out, const BodyLimits& limits = {});

}  // namespace sb::xml
