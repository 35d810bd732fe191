// Namespace fix-ups on raw element bytes. The work is in two steps: find out what an
// element needs (reading its top tag, and walking its descendants only when a header
// prefix or an inherited default namespace could matter), then, only if something is
// needed, build the result in one allocation from slices of the original bytes.
#include "xml/namespace_fixup.hpp"

#include "xml/escape.hpp"
#include "xml/open_tag.hpp"
#include "xml/tag_walker.hpp"

namespace sb::xml {
namespace {

bool is_declaration(std::string_view attr_name) {
  return attr_name == "xmlns" || attr_name.starts_with("xmlns:");
}

// A prefix declared on the stream header that the element might rely on.
struct Candidate {
  std::string_view prefix;
  std::string_view uri;
  bool declared_on_top = false;  // the element declares it itself: nothing to do
  bool used = false;
};

void mark_used(std::vector<Candidate>& candidates, std::string_view prefix) {
  if (prefix.empty() || prefix == "xml") return;
  for (Candidate& c : candidates) {
    if (c.prefix == prefix) c.used = true;
  }
}

// What fix_server_element found out about one element.
struct Needs {
  bool default_ns = false;     // insert xmlns='<default_ns>'
  bool rename_stream = false;  // PREFIX:x -> stream:x on the top element
  bool any_prefix = false;     // at least one candidate to re-declare
};

// Walks the descendants: which header prefixes they use, and (when the top element is
// prefixed and declares no default namespace) whether an unprefixed descendant
// inherits the stream's default namespace. A descendant that declares xmlns= covers
// its whole subtree, so one "covered until this depth closes" marker is enough.
void inspect_descendants(std::string_view element, bool watch_default,
                         std::vector<Candidate>& candidates, Needs& needs) {
  TagWalker walker(element);
  std::size_t covered_depth = 0;  // 0: no enclosing descendant declares xmlns=
  for (MarkupTag tag; walker.next(tag);) {
    if (tag.depth < 2) continue;
    if (tag.kind == MarkupTag::Kind::kClose) {
      if (tag.depth == covered_depth) covered_depth = 0;
      continue;
    }
    AttributeCursor cursor(tag.text);
    const std::string_view prefix = prefix_of(cursor.name());
    mark_used(candidates, prefix);
    bool declares_default = false;
    for (RawAttribute attr; cursor.next(attr);) {
      if (attr.name == "xmlns") {
        declares_default = true;
      } else if (!is_declaration(attr.name)) {
        mark_used(candidates, prefix_of(attr.name));
      }
    }
    if (!watch_default || covered_depth != 0) continue;
    if (declares_default) {
      if (tag.kind == MarkupTag::Kind::kOpen) covered_depth = tag.depth;
    } else if (prefix.empty()) {
      needs.default_ns = true;
    }
  }
}

// Header prefixes the element could rely on. A stream prefix other than "stream"
// counts too: after the rename, descendants still using it need it declared. The
// vector stays unallocated for the usual header (xmlns + xmlns:stream only).
std::vector<Candidate> header_candidates(const StreamNamespaces& ns, bool odd_stream_prefix) {
  std::vector<Candidate> candidates;
  if (!ns.other_prefixes.empty() || odd_stream_prefix) {
    candidates.reserve(ns.other_prefixes.size() + 1);
    for (const auto& [p, uri] : ns.other_prefixes) candidates.push_back({p, uri});
    if (odd_stream_prefix) candidates.push_back({ns.stream_prefix, kStreamsNamespace});
  }
  return candidates;
}

// Reads the attributes of the top tag: the candidates it declares itself, those its
// attribute names use; returns whether it declares xmlns=. The caller checks
// top.malformed() afterwards.
bool read_top_attributes(AttributeCursor& top, std::vector<Candidate>& candidates) {
  bool declares_default = false;
  for (RawAttribute attr; top.next(attr);) {
    if (attr.name == "xmlns") {
      declares_default = true;
    } else if (attr.name.starts_with("xmlns:")) {
      for (Candidate& c : candidates) {
        if (c.prefix == attr.name.substr(6)) c.declared_on_top = true;
      }
    } else {
      mark_used(candidates, prefix_of(attr.name));
    }
  }
  return declares_default;
}

// Where the close tag's name starts ("</PREFIX:name>"), for the rename; npos when the
// element does not end with the close tag of its own name.
std::size_t close_name_offset(std::string_view element, std::string_view qname) {
  const std::size_t close = element.rfind("</");
  if (close == std::string_view::npos || element.substr(close + 2, qname.size()) != qname) {
    return std::string_view::npos;
  }
  return close + 2;
}

// The declarations to insert after the element's name, escaped as attribute values.
std::string declarations_for(const Needs& needs, const StreamNamespaces& ns,
                             const std::vector<Candidate>& candidates) {
  std::string declarations;
  if (needs.default_ns) {
    declarations += " xmlns='";
    append_escaped_attribute(declarations, ns.default_ns);
    declarations += '\'';
  }
  for (const Candidate& c : candidates) {
    if (!c.used || c.declared_on_top) continue;
    declarations += " xmlns:";
    declarations += c.prefix;
    declarations += "='";
    append_escaped_attribute(declarations, c.uri);
    declarations += '\'';
  }
  return declarations;
}

// Where the fix-ups go in the original bytes: the top tag's name (which ends at
// name_end and whose prefix may be renamed) and, for a rename, the close tag's name.
struct Splice {
  std::string_view qname;
  std::string_view prefix;
  std::size_t name_end;
  std::size_t close_name;  // npos: the close tag is not renamed
  bool rename_stream;
};

// The result in one allocation: the original bytes in slices, the renamed prefixes
// and the declarations in between.
std::string splice(std::string_view in, const Splice& at, std::string_view declarations) {
  const std::size_t name_start = at.name_end - at.qname.size();
  const std::string_view new_name_prefix = at.rename_stream ? "stream" : at.prefix;
  std::string out;
  out.reserve(in.size() + declarations.size() + 16);
  out.append(in.substr(0, name_start));
  out.append(new_name_prefix);
  out.append(at.qname.substr(at.prefix.size()));
  out.append(declarations);
  if (at.close_name == std::string::npos) {
    out.append(in.substr(at.name_end));
  } else {
    out.append(in.substr(at.name_end, at.close_name - at.name_end));
    out.append("stream");
    out.append(in.substr(at.close_name + at.prefix.size()));
  }
  return out;
}

}  // namespace

StreamNamespaces read_stream_namespaces(std::string_view stream_open_tag) {
  StreamNamespaces ns;
  AttributeCursor tag(stream_open_tag);
  ns.stream_prefix = std::string(prefix_of(tag.name()));
  for (RawAttribute attr; tag.next(attr);) {
    if (attr.name == "xmlns") {
      ns.default_ns = decode_references(attr.raw_value);
    } else if (attr.name.starts_with("xmlns:")) {
      const std::string_view prefix = attr.name.substr(6);
      if (prefix == ns.stream_prefix) continue;  // the stream namespace itself
      ns.other_prefixes.emplace_back(std::string(prefix), decode_references(attr.raw_value));
    }
  }
  return ns;
}

std::string fix_server_element(std::string&& element, const StreamNamespaces& ns) {
  AttributeCursor top(element);
  const std::string_view qname = top.name();
  if (qname.empty()) return std::move(element);
  const std::string_view prefix = prefix_of(qname);

  const bool odd_stream_prefix = !ns.stream_prefix.empty() && ns.stream_prefix != "stream";
  std::vector<Candidate> candidates = header_candidates(ns, odd_stream_prefix);
  const bool declares_default = read_top_attributes(top, candidates);
  if (top.malformed()) return std::move(element);
  // What the element needs: its own name first, then what its descendants rely on.
  Needs needs;
  if (prefix.empty()) {
    needs.default_ns = !declares_default;
  } else if (odd_stream_prefix && prefix == ns.stream_prefix) {
    needs.rename_stream = true;
  } else {
    mark_used(candidates, prefix);
  }
  const bool watch_default = !prefix.empty() && !declares_default;
  if (!top.self_closing() && (watch_default || !candidates.empty())) {
    inspect_descendants(element, watch_default, candidates, needs);
  }
  for (const Candidate& c : candidates) needs.any_prefix |= c.used && !c.declared_on_top;

  std::size_t close_name = std::string::npos;
  if (needs.rename_stream && !top.self_closing()) {
    close_name = close_name_offset(element, qname);
    // Not an element we understand: leave it alone.
    if (close_name == std::string::npos) needs.rename_stream = false;
  }
  if (!needs.default_ns && !needs.rename_stream && !needs.any_prefix) return std::move(element);
  // Something is needed: the result is built from slices of the original bytes.
  const Splice at{qname, prefix, top.name_end(), close_name, needs.rename_stream};
  return splice(element, at, declarations_for(needs, ns, candidates));
}

std::string declare_stream_prefix(std::string&& element) {
  // Cheap test first: almost every stanza has no "stream:" anywhere. A hit inside
  // text only costs an unused declaration, which is still correct XML.
  if (element.find("stream:") == std::string::npos) return std::move(element);
  AttributeCursor top(element);
  if (top.name().empty()) return std::move(element);
  for (RawAttribute attr; top.next(attr);) {
    if (attr.name == "xmlns:stream") return std::move(element);
  }
  if (top.malformed()) return std::move(element);
  std::string declaration = " xmlns:stream='";
  declaration += kStreamsNamespace;
  declaration += '\'';
  element.insert(top.name_end(), declaration);
  return std::move(element);
}

bool strip_starttls(std::string& features_element) {
  const std::string_view features = features_element;
  TagWalker walker(features);
  std::size_t start = std::string::npos;  // offset of the <starttls> being removed
  bool required = false;
  for (MarkupTag tag; walker.next(tag);) {
    if (start == std::string::npos) {
      if (tag.depth != 2 || tag.kind == MarkupTag::Kind::kClose) continue;
      const std::string_view name = element_name(tag.text);
      if (local_name_of(name) != "starttls") continue;
      // Its namespace: declared on itself or, failing that, on <stream:features>.
      const std::string_view prefix = prefix_of(name);
      const std::string declaration =
          prefix.empty() ? std::string("xmlns") : "xmlns:" + std::string(prefix);
      auto uri = find_attribute(tag.text, declaration);
      if (!uri) uri = find_attribute(features, declaration);
      if (!uri || *uri != kTlsNamespace) continue;
      start = tag.offset;
      if (tag.kind == MarkupTag::Kind::kSelfClosing) {
        features_element.erase(start, tag.text.size());
        return false;
      }
    } else if (tag.depth == 2 && tag.kind == MarkupTag::Kind::kClose) {
      features_element.erase(start, tag.offset + tag.text.size() - start);
      return required;
    } else if (tag.depth == 3 && tag.kind != MarkupTag::Kind::kClose &&
               local_name_of(element_name(tag.text)) == "required") {
      required = true;
    }
  }
  return false;  // absent, or an unterminated <starttls> we leave alone
}

}  // namespace sb::xml
