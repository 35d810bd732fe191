// parse_body in four steps, cheapest first so hostile input costs little:
//   1. the raw bytes: UTF-8 and XML characters (utf8_check), then DOCTYPE, entity
//      references and depth (body_prescan) - before any DOM exists;
//   2. pugixml parses (no DTD processing ever happens: parse_doctype is only on so a
//      DOCTYPE shows up as a node and can be refused);
//   3. <body/> itself: name, namespace, attributes, no character data;
//   4. each child: prefixes resolved in an iterative walk (unbound ones refused, ones
//      bound only on <body/> copied onto the child), xmlns='jabber:client' added where
//      the child relied on httpbind, then printed with format_raw.
#include "xml/body_parser.hpp"

#include <algorithm>
#include <array>
#include <map>
#include <optional>
#include <pugixml.hpp>

#include "xml/body_prescan.hpp"
#include "xml/chars.hpp"
#include "xml/open_tag.hpp"
#include "xml/utf8_check.hpp"

namespace sb::xml {
namespace {

constexpr std::string_view kJabberClient = "jabber:client";

// pugixml's defaults (CDATA kept, references decoded, XML end-of-line and attribute
// normalization) plus: whitespace-only text kept so stanza text survives exactly, and
// DOCTYPE nodes kept only to be detected. Comments and PIs are dropped.
constexpr unsigned kParseOptions =
    pugi::parse_default | pugi::parse_ws_pcdata | pugi::parse_doctype;

// Collects pugixml's output. pugixml writes a carriage return in text as a raw
// byte, which the XMPP server's parser would turn into a line feed (XML end-of-line
// handling): it goes out as &#13; instead. A raw CR can only come from &#13; in
// the client's text (raw CRs in the input are normalized on parse, and CDATA keeps
// references undecoded), so this is exact.
struct StringWriter final : pugi::xml_writer {
  explicit StringWriter(std::string& target) : out(target) {}
  void write(const void* data, std::size_t size) override {
    std::string_view bytes(static_cast<const char*>(data), size);
    for (std::size_t cr = bytes.find('\r'); cr != std::string_view::npos; cr = bytes.find('\r')) {
      out.append(bytes.substr(0, cr)).append("&#13;");
      bytes.remove_prefix(cr + 1);
    }
    out.append(bytes);
  }
  std::string& out;
};

bool is_blank(std::string_view text) {
  return std::all_of(text.begin(), text.end(), [](char c) { return is_xml_space(c); });
}

// The namespace declarations of one element: (prefix, uri), prefix "" for xmlns=.
using Declarations = std::vector<std::pair<std::string_view, std::string_view>>;

std::optional<std::string_view> declared_prefix(std::string_view attr_name) {
  if (attr_name == "xmlns") return std::string_view{};
  if (attr_name.starts_with("xmlns:")) return attr_name.substr(6);
  return std::nullopt;
}

// `decls` is sorted by prefix (and has no duplicates): a hostile body with thousands of
// declarations costs a binary search per lookup, not a scan.
std::optional<std::string_view> lookup(const Declarations& decls, std::string_view prefix) {
  const auto it = std::lower_bound(decls.begin(), decls.end(), prefix,
                                   [](const auto& d, std::string_view p) { return d.first < p; });
  if (it == decls.end() || it->first != prefix) return std::nullopt;
  return it->second;
}

bool has_duplicate(std::vector<std::string_view> names) {
  std::sort(names.begin(), names.end());
  return std::adjacent_find(names.begin(), names.end()) != names.end();
}

// Whether some attribute name appears twice on the element (not well-formed XML, and
// pugixml does not check). Real stanzas have a few attributes: those are compared
// pairwise without allocating; a long list is sorted, so a hostile element with
// thousands of attributes costs O(k log k), not O(k^2).
bool has_duplicate_attribute(pugi::xml_node element) {
  std::array<std::string_view, 8> few;
  std::size_t count = 0;
  for (pugi::xml_attribute a : element.attributes()) {
    if (count == few.size()) {
      std::vector<std::string_view> all;
      for (pugi::xml_attribute b : element.attributes()) all.emplace_back(b.name());
      return has_duplicate(std::move(all));
    }
    const std::string_view name = a.name();
    for (std::size_t i = 0; i < count; ++i) {
      if (few[i] == name) return true;
    }
    few[count++] = name;
  }
  return false;
}

pugi::xml_node first_element_child(pugi::xml_node node) {
  pugi::xml_node c = node.first_child();
  while (c && c.type() != pugi::node_element) c = c.next_sibling();
  return c;
}

pugi::xml_node next_element_sibling(pugi::xml_node node) {
  pugi::xml_node s = node.next_sibling();
  while (s && s.type() != pugi::node_element) s = s.next_sibling();
  return s;
}

// Walks one child of <body/> and its descendants without recursion. Every prefix used
// by an element or attribute name must be bound in the subtree or on <body/>; the
// ones bound only on <body/> are collected into `from_body`.
BodyError resolve_prefixes(pugi::xml_node child, const Declarations& body_decls,
                           std::vector<std::string_view>& from_body) {
  struct Bound {
    std::string_view prefix;
    std::size_t depth;
  };
  std::vector<Bound> scope;                          // declarations in the subtree, innermost last
  std::map<std::string_view, std::size_t> in_scope;  // prefix -> how many of them bind it
  const auto check = [&](std::string_view prefix) {
    if (prefix.empty() || prefix == "xml") return true;
    if (prefix == "xmlns") return false;
    if (in_scope.count(prefix) != 0) return true;
    if (!lookup(body_decls, prefix)) return false;
    from_body.push_back(prefix);  // made unique at the end
    return true;
  };

  pugi::xml_node node = child;
  std::size_t depth = 0;
  for (;;) {
    const auto attributes = node.attributes();
    if (has_duplicate_attribute(node)) return BodyError::kNotXml;
    for (pugi::xml_attribute a : attributes) {
      const auto prefix = declared_prefix(a.name());
      if (prefix && !prefix->empty()) {
        scope.push_back({*prefix, depth});
        ++in_scope[*prefix];
      }
    }
    if (!check(prefix_of(node.name()))) return BodyError::kNotXml;
    for (pugi::xml_attribute a : attributes) {
      if (!declared_prefix(a.name()) && !check(prefix_of(a.name()))) return BodyError::kNotXml;
    }
    if (pugi::xml_node first = first_element_child(node)) {
      node = first;
      ++depth;
      continue;
    }
    // Leave this node, and its ancestors that have no further children.
    for (;;) {
      while (!scope.empty() && scope.back().depth >= depth) {
        const auto it = in_scope.find(scope.back().prefix);
        if (--it->second == 0) in_scope.erase(it);
        scope.pop_back();
      }
      if (depth == 0) {
        std::sort(from_body.begin(), from_body.end());
        from_body.erase(std::unique(from_body.begin(), from_body.end()), from_body.end());
        return BodyError::kNone;
      }
      if (pugi::xml_node sibling = next_element_sibling(node)) {
        node = sibling;
        break;
      }
      node = node.parent();
      --depth;
    }
  }
}

// Reads <body/>'s own attributes into out.attributes under their canonical names.
BodyError read_body_attributes(pugi::xml_node body, const Declarations& decls, BoshBody& out) {
  for (pugi::xml_attribute a : body.attributes()) {
    const std::string_view name = a.name();
    if (declared_prefix(name)) continue;
    const std::string_view prefix = prefix_of(name);
    std::string key;
    if (prefix.empty() || prefix == "xml") {
      key = name;
    } else {
      const auto uri = lookup(decls, prefix);
      if (!uri) return BodyError::kNotXml;
      if (*uri == kXBoshNamespace) {
        key = "xmpp:";
      } else {
        key = "{";
        key += *uri;
        key += '}';
      }
      key += local_name_of(name);
    }
    out.attributes.emplace_back(std::move(key), a.value());
  }
  // Two prefixes bound to one namespace can still name one attribute twice.
  std::vector<std::string_view> keys;
  keys.reserve(out.attributes.size());
  for (const auto& [key, value] : out.attributes) keys.emplace_back(key);
  return has_duplicate(std::move(keys)) ? BodyError::kNotXml : BodyError::kNone;
}

// Applies the XEP-0206 namespace rule to one child, then prints it into the payload.
BodyError add_payload_child(pugi::xml_node child, const Declarations& body_decls, BoshBody& out) {
  std::vector<std::string_view> from_body;
  if (const BodyError e = resolve_prefixes(child, body_decls, from_body); e != BodyError::kNone) {
    return e;
  }
  // Prefix declarations to add are copied first: the uris live in <body/>'s attributes,
  // which do not move, but the child's attribute list is about to change.
  for (std::string_view prefix : from_body) {
    const std::string name = "xmlns:" + std::string(prefix);
    child.append_attribute(name.c_str())
        .set_value(std::string(*lookup(body_decls, prefix)).c_str());
  }
  if (pugi::xml_attribute xmlns = child.attribute("xmlns")) {
    if (xmlns.value() == kHttpBindNamespace) xmlns.set_value(kJabberClient.data());
  } else {
    const auto inherited = lookup(body_decls, "");
    const bool keep_inherited =
        inherited && !inherited->empty() && *inherited != kHttpBindNamespace;
    child.prepend_attribute("xmlns").set_value(keep_inherited ? std::string(*inherited).c_str()
                                                              : kJabberClient.data());
  }
  StringWriter writer(out.payload);
  child.print(writer, "", pugi::format_raw | pugi::format_no_declaration, pugi::encoding_utf8);
  ++out.payload_elements;
  return BodyError::kNone;
}

}  // namespace

std::string_view body_error_text(BodyError error) {
  switch (error) {
    case BodyError::kNone: return "no error";
    case BodyError::kNotXml: return "not well-formed XML";
    case BodyError::kNotBody: return "root element is not <body/>";
    case BodyError::kWrongNamespace: return "<body/> is not in the httpbind namespace";
    case BodyError::kDoctype: return "DOCTYPE not allowed";
    case BodyError::kEntity: return "entity reference not allowed";
    case BodyError::kTooDeep: return "elements nested too deeply";
    case BodyError::kCharacterData: return "character data directly inside <body/>";
    case BodyError::kInvalidUtf8: return "invalid UTF-8";
  }
  return "unknown body error";
}

const std::string* BoshBody::attribute(std::string_view canonical_name) const {
  for (const auto& [name, value] : attributes) {
    if (name == canonical_name) return &value;
  }
  return nullptr;
}

BodyError parse_body(std::string_view bytes, BoshBody& out, const BodyLimits& limits) {
  out = BoshBody{};
  switch (check_xml_text(bytes)) {
    case TextCheck::kOk: break;
    case TextCheck::kInvalidUtf8: return BodyError::kInvalidUtf8;
    case TextCheck::kIllegalChar: return BodyError::kNotXml;
  }
  if (const BodyError e = prescan_body(bytes, limits.max_depth); e != BodyError::kNone) return e;

  pugi::xml_document doc;
  if (!doc.load_buffer(bytes.data(), bytes.size(), kParseOptions, pugi::encoding_utf8)) {
    return BodyError::kNotXml;
  }
  pugi::xml_node body;
  for (pugi::xml_node node : doc.children()) {
    switch (node.type()) {
      case pugi::node_doctype: return BodyError::kDoctype;
      case pugi::node_element:
        if (body) return BodyError::kNotXml;  // a second root element
        body = node;
        break;
      case pugi::node_pcdata:
      case pugi::node_cdata:
        if (!is_blank(node.value())) return BodyError::kNotXml;
        break;
      default: break;
    }
  }
  if (!body) return BodyError::kNotXml;

  if (local_name_of(body.name()) != "body") return BodyError::kNotBody;
  if (has_duplicate_attribute(body)) return BodyError::kNotXml;
  Declarations decls;
  for (pugi::xml_attribute a : body.attributes()) {
    if (const auto prefix = declared_prefix(a.name())) decls.emplace_back(*prefix, a.value());
  }
  std::sort(decls.begin(), decls.end());
  const auto body_ns = lookup(decls, prefix_of(body.name()));
  if (!body_ns || *body_ns != kHttpBindNamespace) return BodyError::kWrongNamespace;
  if (const BodyError e = read_body_attributes(body, decls, out); e != BodyError::kNone) return e;

  for (pugi::xml_node child : body.children()) {
    switch (child.type()) {
      case pugi::node_pcdata:
      case pugi::node_cdata:
        if (!is_blank(child.value())) return BodyError::kCharacterData;
        break;
      case pugi::node_element:
        if (const BodyError e = add_payload_child(child, decls, out); e != BodyError::kNone)
          return e;
        break;
      default: break;
    }
  }
  return BodyError::kNone;
}

}  // namespace sb::xml
