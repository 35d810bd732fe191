// Reading stanza heads and writing the stub's replies. See stanzas.hpp.
#include "tools/stub/stanzas.hpp"

#include "xml/escape.hpp"
#include "xml/open_tag.hpp"
#include "xml/tag_walker.hpp"

namespace sb::stub {
namespace {

constexpr std::string_view kStanzasNs = "urn:ietf:params:xml:ns:xmpp-stanzas";

void add_attribute(std::string& out, std::string_view name, std::string_view decoded) {
  out += ' ';
  out += name;
  out += "='";
  xml::append_escaped_attribute(out, decoded);
  out += '\'';
}

// The opening of an iq answer: <iq type='T' id='..' [from='..'] to='..'
std::string iq_open(const StanzaHead& head, std::string_view type, std::string_view to) {
  std::string out = "<iq";
  add_attribute(out, "type", type);
  add_attribute(out, "id", value(head.id));
  if (!head.to.empty()) add_attribute(out, "from", value(head.to));
  add_attribute(out, "to", to);
  return out;
}

}  // namespace

StanzaHead read_head(std::string_view stanza) {
  StanzaHead head;
  xml::AttributeCursor cursor(stanza);
  if (cursor.malformed()) return head;
  head.name = xml::local_name_of(cursor.name());
  head.name_end = cursor.name_end();
  for (xml::RawAttribute attribute; cursor.next(attribute);) {
    if (attribute.name == "to") {
      head.to = attribute.raw_value;
    } else if (attribute.name == "from") {
      head.from = attribute.raw_value;
      head.from_begin = attribute.begin;
      head.from_end = attribute.end;
    } else if (attribute.name == "id") {
      head.id = attribute.raw_value;
    } else if (attribute.name == "type") {
      head.type = attribute.raw_value;
    }
  }
  head.ok = !cursor.malformed();
  return head;
}

std::string value(std::string_view raw) {
  if (raw.find('&') == std::string_view::npos) return std::string(raw);
  return xml::decode_references(raw);
}

std::optional<ChildInfo> first_child(std::string_view stanza) {
  xml::TagWalker walker(stanza);
  for (xml::MarkupTag tag; walker.next(tag);) {
    if (tag.depth == 2 && tag.kind != xml::MarkupTag::Kind::kClose) {
      ChildInfo child;
      child.name = xml::local_name_of(xml::element_name(tag.text));
      child.xmlns = xml::find_attribute(tag.text, "xmlns").value_or("");
      return child;
    }
  }
  return std::nullopt;
}

std::optional<std::string> child_text(std::string_view stanza, std::string_view name) {
  xml::TagWalker walker(stanza);
  for (xml::MarkupTag tag; walker.next(tag);) {
    if (tag.depth < 2 || tag.kind == xml::MarkupTag::Kind::kClose) continue;
    if (xml::local_name_of(xml::element_name(tag.text)) != name) continue;
    if (tag.kind == xml::MarkupTag::Kind::kSelfClosing) return std::string();
    const std::size_t begin = tag.offset + tag.text.size();
    const std::size_t end = stanza.find('<', begin);
    if (end == std::string_view::npos) return std::nullopt;
    return value(stanza.substr(begin, end - begin));
  }
  return std::nullopt;
}

std::string element_text(std::string_view stanza) {
  xml::AttributeCursor cursor(stanza);
  for (xml::RawAttribute attribute; cursor.next(attribute);) {
  }
  if (cursor.malformed() || cursor.self_closing()) return std::string();
  const std::size_t begin = cursor.tag_end();
  const std::size_t end = stanza.find('<', begin);
  if (end == std::string_view::npos) return std::string();
  return value(stanza.substr(begin, end - begin));
}

std::string stream_header(std::string_view domain, std::string_view stream_id) {
  std::string out =
      "<?xml version='1.0'?><stream:stream xmlns='jabber:client'"
      " xmlns:stream='http://etherx.jabber.org/streams' version='1.0' xml:lang='en'";
  add_attribute(out, "id", stream_id);
  add_attribute(out, "from", domain);
  out += '>';
  return out;
}

std::string features_before_auth() {
  return "<stream:features><mechanisms xmlns='urn:ietf:params:xml:ns:xmpp-sasl'>"
         "<mechanism>PLAIN</mechanism><mechanism>ANONYMOUS</mechanism>"
         "</mechanisms></stream:features>";
}

std::string features_after_auth() {
  return "<stream:features><bind xmlns='urn:ietf:params:xml:ns:xmpp-bind'/>"
         "<session xmlns='urn:ietf:params:xml:ns:xmpp-session'><optional/></session>"
         "</stream:features>";
}

std::string sasl_success() { return "<success xmlns='urn:ietf:params:xml:ns:xmpp-sasl'/>"; }

std::string sasl_failure(std::string_view condition) {
  std::string out = "<failure xmlns='urn:ietf:params:xml:ns:xmpp-sasl'><";
  out += condition;
  out += "/></failure>";
  return out;
}

std::string stream_error(std::string_view condition) {
  std::string out = "<stream:error><";
  out += condition;
  out += " xmlns='urn:ietf:params:xml:ns:xmpp-streams'/></stream:error>";
  out += kStreamClose;
  return out;
}

std::string iq_result(const StanzaHead& head, std::string_view to, std::string_view payload) {
  std::string out = iq_open(head, "result", to);
  if (payload.empty()) {
    out += "/>";
  } else {
    out += '>';
    out += payload;
    out += "</iq>";
  }
  return out;
}

std::string iq_error(const StanzaHead& head, std::string_view to, std::string_view condition) {
  std::string out = iq_open(head, "error", to);
  out += "><error type='cancel'><";
  out += condition;
  out += " xmlns='";
  out += kStanzasNs;
  out += "'/></error></iq>";
  return out;
}

std::string stamp_from(std::string_view stanza, const StanzaHead& head, std::string_view from) {
  std::string out;
  out.reserve(stanza.size() + from.size() + 16);
  out.append(stanza.substr(0, head.name_end));
  add_attribute(out, "from", from);
  if (head.from_end != 0) {
    // Drop the client's own 'from' (and the blank before it, which begins at
    // name_end or after the previous attribute).
    out.append(stanza.substr(head.name_end, head.from_begin - head.name_end));
    out.append(stanza.substr(head.from_end));
  } else {
    out.append(stanza.substr(head.name_end));
  }
  return out;
}

std::optional<std::string> bounce(std::string_view stanza) {
  const StanzaHead head = read_head(stanza);
  if (!head.ok || head.type == "error" || head.from.empty()) return std::nullopt;
  if (head.name == "iq") {
    if (head.type != "get" && head.type != "set") return std::nullopt;
  } else if (head.name != "message") {
    return std::nullopt;
  }
  std::string out = "<";
  out += head.name;
  if (!head.to.empty()) add_attribute(out, "from", value(head.to));
  add_attribute(out, "to", value(head.from));
  add_attribute(out, "type", "error");
  if (!head.id.empty()) add_attribute(out, "id", value(head.id));
  out += "><error type='cancel'><service-unavailable xmlns='";
  out += kStanzasNs;
  out += "'/></error></";
  out += head.name;
  out += '>';
  return out;
}

}  // namespace sb::stub
