// Reading client messages and writing the framing elements; see xmpp_framing.hpp.
#include "ws/xmpp_framing.hpp"

#include <optional>

#include "xml/body_parser.hpp"
#include "xml/escape.hpp"
#include "xml/namespace_fixup.hpp"
#include "xml/open_tag.hpp"

namespace sb::ws {
namespace {

constexpr std::string_view kBodyOpen = "<body xmlns='http://jabber.org/protocol/httpbind'>";
constexpr std::string_view kBodyClose = "</body>";

ClientMessage refused(std::string_view condition, std::string_view what) {
  ClientMessage m;
  m.kind = ClientMessage::Kind::kError;
  m.condition = condition;
  m.what = what;
  return m;
}

std::string_view condition_for(xml::BodyError error) {
  switch (error) {
    case xml::BodyError::kDoctype:
    case xml::BodyError::kEntity: return "restricted-xml";
    case xml::BodyError::kTooDeep: return "policy-violation";
    case xml::BodyError::kInvalidUtf8: return "unsupported-encoding";
    default: return "not-well-formed";
  }
}

// The namespace the element's own name is in, as declared on its top tag (after
// parse_body every namespace an element relies on is declared on it).
std::optional<std::string> own_namespace(std::string_view element) {
  const std::string_view prefix = xml::prefix_of(xml::element_name(element));
  if (prefix.empty()) return xml::find_attribute(element, "xmlns");
  return xml::find_attribute(element, "xmlns:" + std::string(prefix));
}

void append_attribute(std::string& out, std::string_view name, std::string_view value) {
  if (value.empty()) return;
  out += ' ';
  out += name;
  out += "='";
  xml::append_escaped_attribute(out, value);
  out += '\'';
}

}  // namespace

ClientMessage read_client_message(std::string_view text) {
  std::string wrapped;
  wrapped.reserve(kBodyOpen.size() + text.size() + kBodyClose.size());
  wrapped.append(kBodyOpen).append(text).append(kBodyClose);
  xml::BoshBody body;
  const xml::BodyError error = xml::parse_body(wrapped, body);
  if (error == xml::BodyError::kCharacterData) {
    return refused("not-well-formed", "text outside the element");
  }
  if (error != xml::BodyError::kNone)
    return refused(condition_for(error), xml::body_error_text(error));
  if (body.payload_elements == 0) {
    ClientMessage m;
    m.kind = ClientMessage::Kind::kBlank;
    return m;
  }
  if (body.payload_elements > 1)
    return refused("not-well-formed", "more than one element in a message");

  const std::string_view element = body.payload;
  const auto ns = own_namespace(element);
  if (!ns || *ns != kFramingNamespace) {
    ClientMessage m;
    m.kind = ClientMessage::Kind::kStanza;
    m.stanza = std::move(body.payload);
    return m;
  }
  const std::string_view local = xml::local_name_of(xml::element_name(element));
  ClientMessage m;
  if (local == "close") {
    m.kind = ClientMessage::Kind::kClose;  // a see-other-uri from a client means nothing to us
    return m;
  }
  if (local != "open") return refused("unsupported-stanza-type", "unknown framing element");
  m.kind = ClientMessage::Kind::kOpen;
  m.target.to = xml::find_attribute(element, "to").value_or("");
  m.target.lang = xml::find_attribute(element, "xml:lang").value_or("");
  m.target.version = xml::find_attribute(element, "version").value_or("");
  return m;
}

std::string server_open(const engine::StreamHeader& header, std::string_view lang) {
  std::string out = "<open xmlns='";
  out += kFramingNamespace;
  out += '\'';
  append_attribute(out, "from", header.from);
  append_attribute(out, "id", header.id);
  append_attribute(out, "version",
                   header.version.empty() ? std::string_view("1.0") : header.version);
  append_attribute(out, "xml:lang", lang);
  out += "/>";
  return out;
}

std::string_view close_element() { return "<close xmlns='urn:ietf:params:xml:ns:xmpp-framing'/>"; }

std::string stream_error(std::string_view condition) {
  std::string out = "<stream:error xmlns:stream='";
  out += xml::kStreamsNamespace;
  out += "'><";
  out += condition;
  out += " xmlns='urn:ietf:params:xml:ns:xmpp-streams'/></stream:error>";
  return out;
}

}  // namespace sb::ws
