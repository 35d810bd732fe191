// Attribute reading over raw tags. The cursor is a tiny hand-written lexer for
//   '<' Name (S Name S? '=' S? Quote ... Quote)* S? ('>' | '/>')
// that stops, without reading past the end, at the first byte that does not fit.
#include "xml/open_tag.hpp"

#include "xml/chars.hpp"
#include "xml/references.hpp"

namespace sb::xml {

std::string_view prefix_of(std::string_view qualified_name) {
  const std::size_t colon = qualified_name.find(':');
  return colon == std::string_view::npos ? std::string_view{} : qualified_name.substr(0, colon);
}

std::string_view local_name_of(std::string_view qualified_name) {
  const std::size_t colon = qualified_name.find(':');
  return colon == std::string_view::npos ? qualified_name : qualified_name.substr(colon + 1);
}

std::string_view element_name(std::string_view element) { return AttributeCursor(element).name(); }

std::optional<std::string> find_attribute(std::string_view open_tag,
                                          std::string_view qualified_name) {
  AttributeCursor tag(open_tag);
  for (RawAttribute attr; tag.next(attr);) {
    if (attr.name == qualified_name) return decode_references(attr.raw_value);
  }
  return std::nullopt;
}

std::string decode_references(std::string_view raw) {
  std::string out;
  out.reserve(raw.size());
  std::size_t run_start = 0;
  for (std::size_t amp = raw.find('&'); amp != std::string_view::npos;
       amp = raw.find('&', amp + 1)) {
    const Reference ref = read_reference(raw, amp);
    if (ref.kind != Reference::Kind::kCharacter) continue;  // kept as written
    out.append(raw.data() + run_start, amp - run_start);
    append_utf8(out, ref.code_point);
    run_start = amp + ref.length;
    amp = run_start - 1;
  }
  out.append(raw.data() + run_start, raw.size() - run_start);
  return out;
}

AttributeCursor::AttributeCursor(std::string_view text) : text_(text) {
  std::size_t pos = 0;
  while (pos < text_.size() && is_xml_space(text_[pos])) ++pos;
  if (pos + 1 >= text_.size() || text_[pos] != '<' || !is_name_start(text_[pos + 1])) {
    malformed_ = done_ = true;
    return;
  }
  const std::size_t name_start = ++pos;
  while (pos < text_.size() && is_name_char(text_[pos])) ++pos;
  name_ = text_.substr(name_start, pos - name_start);
  name_end_ = pos_ = pos;
}

bool AttributeCursor::next(RawAttribute& out) {
  if (done_) return false;
  const auto fail = [this] {
    malformed_ = done_ = true;
    return false;
  };
  const std::size_t n = text_.size();
  std::size_t pos = pos_;
  const std::size_t before_space = pos;
  while (pos < n && is_xml_space(text_[pos])) ++pos;
  if (pos >= n) return fail();
  if (text_[pos] == '>' || text_[pos] == '/') {
    if (text_[pos] == '/') {
      if (pos + 1 >= n || text_[pos + 1] != '>') return fail();
      self_closing_ = true;
      ++pos;
    }
    tag_end_ = pos + 1;
    done_ = true;
    return false;
  }
  // An attribute must be separated from what precedes it by white space.
  if (pos == before_space || !is_name_start(text_[pos])) return fail();
  const std::size_t name_start = pos;
  while (pos < n && is_name_char(text_[pos])) ++pos;
  const std::size_t name_end = pos;
  while (pos < n && is_xml_space(text_[pos])) ++pos;
  if (pos >= n || text_[pos] != '=') return fail();
  ++pos;
  while (pos < n && is_xml_space(text_[pos])) ++pos;
  if (pos >= n || (text_[pos] != '\'' && text_[pos] != '"')) return fail();
  const std::size_t close = text_.find(text_[pos], pos + 1);
  if (close == std::string_view::npos) return fail();
  out.name = text_.substr(name_start, name_end - name_start);
  out.raw_value = text_.substr(pos + 1, close - pos - 1);
  out.begin = name_start;
  out.end = close + 1;
  pos_ = close + 1;
  return true;
}

}  // namespace sb::xml
