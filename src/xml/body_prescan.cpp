// A one-pass scanner over the whole body: text and attribute values are checked for
// references, comments / CDATA / PIs are skipped whole, tags are counted for depth.
// Nothing is allocated.
#include "xml/body_prescan.hpp"

#include "xml/chars.hpp"
#include "xml/references.hpp"

namespace sb::xml {
namespace {

BodyError check_reference(std::string_view bytes, std::size_t amp, std::size_t& length) {
  const Reference ref = read_reference(bytes, amp);
  length = ref.length;
  switch (ref.kind) {
    case Reference::Kind::kCharacter: return BodyError::kNone;
    case Reference::Kind::kEntity: return BodyError::kEntity;
    case Reference::Kind::kMalformed: break;
  }
  return BodyError::kNotXml;
}

// Reads the open tag starting at bytes[lt]; on success `end` is one past its '>'.
BodyError scan_open_tag(std::string_view bytes, std::size_t lt, std::size_t& end,
                        bool& self_closing) {
  if (lt + 1 >= bytes.size() || !is_name_start(bytes[lt + 1])) return BodyError::kNotXml;
  for (std::size_t pos = lt + 1; pos < bytes.size(); ++pos) {
    const char c = bytes[pos];
    if (c == '>') {
      end = pos + 1;
      self_closing = bytes[pos - 1] == '/';
      return BodyError::kNone;
    }
    if (c == '<') return BodyError::kNotXml;
    if (c != '\'' && c != '"') continue;
    // An attribute value: references are checked like in text, '<' is not allowed.
    for (++pos;; ++pos) {
      if (pos >= bytes.size() || bytes[pos] == '<') return BodyError::kNotXml;
      if (bytes[pos] == c) break;
      if (bytes[pos] == '&') {
        std::size_t length = 0;
        if (const BodyError e = check_reference(bytes, pos, length); e != BodyError::kNone)
          return e;
        pos += length - 1;
      }
    }
  }
  return BodyError::kNotXml;
}

}  // namespace

BodyError prescan_body(std::string_view bytes, std::size_t max_depth) {
  std::size_t depth = 0;
  std::size_t pos = 0;
  const auto skip_past = [&](std::size_t from, std::string_view terminator) {
    const std::size_t at = bytes.find(terminator, from);
    if (at == std::string_view::npos) return false;
    pos = at + terminator.size();
    return true;
  };
  bool root_done = false;  // the root element has ended: only white space may follow
  // pugixml silently drops text outside the root element; XML does not allow it.
  const auto blank_outside_root = [&](std::size_t end) {
    for (std::size_t i = pos; i < end; ++i) {
      if (!is_xml_space(bytes[i])) return false;
    }
    return true;
  };
  while (pos < bytes.size()) {
    const std::size_t at = bytes.find_first_of("<&", pos);
    if (depth == 0 && !blank_outside_root(at == std::string_view::npos ? bytes.size() : at)) {
      return BodyError::kNotXml;
    }
    if (at == std::string_view::npos) break;
    if (bytes[at] == '&') {
      if (depth == 0) return BodyError::kNotXml;
      std::size_t length = 0;
      if (const BodyError e = check_reference(bytes, at, length); e != BodyError::kNone) return e;
      pos = at + length;
      continue;
    }
    const std::string_view rest = bytes.substr(at);
    if (rest.starts_with("<!--")) {
      if (!skip_past(at + 4, "-->")) return BodyError::kNotXml;
    } else if (rest.starts_with("<![CDATA[")) {
      if (depth == 0 || !skip_past(at + 9, "]]>")) return BodyError::kNotXml;
    } else if (rest.starts_with("<!DOCTYPE")) {
      return BodyError::kDoctype;
    } else if (rest.starts_with("<!")) {
      return BodyError::kNotXml;  // ENTITY, ELEMENT...: only legal inside a DTD
    } else if (rest.starts_with("<?")) {
      if (!skip_past(at + 2, "?>")) return BodyError::kNotXml;
    } else if (rest.starts_with("</")) {
      if (depth == 0 || !skip_past(at + 2, ">")) return BodyError::kNotXml;
      if (--depth == 0) root_done = true;
    } else {
      bool self_closing = false;
      if (const BodyError e = scan_open_tag(bytes, at, pos, self_closing); e != BodyError::kNone) {
        return e;
      }
      if (depth == 0 && root_done) return BodyError::kNotXml;  // a second root element
      // <body/> is depth 1; an empty element counts as deep as one with content.
      if (depth + 1 > max_depth) return BodyError::kTooDeep;
      if (!self_closing) {
        ++depth;
      } else if (depth == 0) {
        root_done = true;
      }
    }
  }
  // An unclosed root is left for pugixml to report; a missing one is caught here.
  return root_done || depth > 0 ? BodyError::kNone : BodyError::kNotXml;
}

}  // namespace sb::xml
