// Namespace fix-ups: making elements lifted out of the server's XMPP stream fit
// inside a BOSH <body xmlns='http://jabber.org/protocol/httpbind'
// xmlns:stream='http://etherx.jabber.org/streams'> (XEP-0206, checklist X2, X3).
//
// Inside the stream an element inherits the namespaces declared on the
// <stream:stream> header; inside <body/> it would inherit httpbind instead. So the
// default namespace and any header prefix an element relies on are re-declared on the
// element, and a stream prefix other than "stream" is renamed to the "stream" that
// <body/> declares. All of it is splicing on the raw bytes: the server's bytes reach
// the browser as they were sent, plus the fix-ups, never re-serialized.
#pragma once

#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace sb::xml {

inline constexpr std::string_view kStreamsNamespace = "http://etherx.jabber.org/streams";
inline constexpr std::string_view kTlsNamespace = "urn:ietf:params:xml:ns:xmpp-tls";

// What the server's stream header declares.
struct StreamNamespaces {
  std::string default_ns = "jabber:client";
  std::string stream_prefix = "stream";
  // Every other xmlns:PREFIX='uri' on the header, in order.
  std::vector<std::pair<std::string, std::string>> other_prefixes;
};

// Reads the declarations of a <PREFIX:stream ...> open tag. The stream prefix is the
// prefix of the header's own name; values are decoded.
StreamNamespaces read_stream_namespaces(std::string_view stream_open_tag);

// Returns the element ready to sit inside <body/>:
//  - no xmlns= on the top tag, and the element (or, for a prefixed one, a descendant
//    that inherits the default namespace) relies on it: xmlns='<default_ns>' is
//    inserted right after the name;
//  - the top element uses the stream prefix and that prefix is not "stream": it is
//    renamed to stream: in its open and close tags;
//  - a prefix declared on the header (other than the stream prefix "stream", which
//    <body/> declares) is used by the element or a descendant and not declared on the
//    top tag: xmlns:PREFIX='uri' is inserted.
// An element that needs none of this is returned as is, without copying.
std::string fix_server_element(std::string&& element, const StreamNamespaces& ns);

// For an element that stands alone instead of inside <body/> (an XMPP over
// WebSocket message, RFC 7395 §3.3.3), after fix_server_element: xmlns:stream is
// declared on the top tag if the element uses the stream: prefix and does not
// declare it itself. Otherwise the element is returned as is, without copying.
std::string declare_stream_prefix(std::string&& element);

// Removes the <starttls xmlns='urn:ietf:params:xml:ns:xmpp-tls'/> child (empty or
// with content) from a <stream:features> element in place: the browser must not see
// an offer to negotiate TLS inside BOSH (X3). Returns true if it was there and
// carried <required/>; false if it was absent or optional.
bool strip_starttls(std::string& features_element);

}  // namespace sb::xml
