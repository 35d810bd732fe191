// The XMPP framing of RFC 7395 §3.3-3.7: what a client's text message means, and
// the elements Switchboard writes to the client in place of the stream header and
// the stream close.
//
// Over WebSocket there is no <stream:stream> wrapper: the client opens with
// <open xmlns='urn:ietf:params:xml:ns:xmpp-framing' to='example.com' version='1.0'/>,
// closes with <close xmlns='urn:ietf:params:xml:ns:xmpp-framing'/>, and every other
// message is exactly one stanza or other top-level element, "parsable by itself as a
// complete, standalone XML document" with its namespaces declared on it (§3.3.3).
//
// Client messages are checked with the same code as BOSH bodies (xml::parse_body,
// wrapping the message in a <body/>): the same refusal of DOCTYPEs, custom entities,
// unbound prefixes, deep nesting and illegal characters, the same re-serialization
// that gives an element relying on no default namespace xmlns='jabber:client'. One
// message holding two elements, or text beside its element, is refused.
//
// Server elements reach the session already fixed for a message of their own
// (engine::StanzaFraming::kWebSocket: stanzas carry xmlns='jabber:client', and an
// element using the stream: prefix, <stream:features> or <stream:error>, declares
// it, since no <body/> does), so they go out as they come.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "engine/upstream.hpp"

namespace sb::ws {

inline constexpr std::string_view kFramingNamespace = "urn:ietf:params:xml:ns:xmpp-framing";

struct ClientMessage {
  enum class Kind : std::uint8_t {
    kOpen,    // <open/>: `target` has to, lang and version
    kClose,   // <close/>
    kStanza,  // any other element: `stanza` is what to send to the server
    kBlank,   // nothing but whitespace: ignored
    kError,   // refused: `condition` is the stream error to answer with
  };
  Kind kind = Kind::kError;
  std::string stanza;
  engine::UpstreamTarget target;  // only to, lang and version are filled
  std::string_view condition;     // an RFC 6120 §4.9.3 stream error condition
  std::string_view what;          // a few words for the log
};

ClientMessage read_client_message(std::string_view text);

// <open xmlns='urn:ietf:params:xml:ns:xmpp-framing' from=... id=... version=...
// xml:lang=.../> from the server's stream header; empty values are left out.
std::string server_open(const engine::StreamHeader& header, std::string_view lang);

// <close xmlns='urn:ietf:params:xml:ns:xmpp-framing'/>
std::string_view close_element();

// <stream:error xmlns:stream='http://etherx.jabber.org/streams'><CONDITION
// xmlns='urn:ietf:params:xml:ns:xmpp-streams'/></stream:error>
std::string stream_error(std::string_view condition);

}  // namespace sb::ws
