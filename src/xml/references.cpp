// One reference at a time. Numbers are accumulated with a cap so that a long run of
// digits cannot overflow; anything above U+10FFFF is simply "no character".
#include "xml/references.hpp"

#include "xml/chars.hpp"

namespace sb::xml {
namespace {

int digit_value(char c, bool hex) {
  if (c >= '0' && c <= '9') return c - '0';
  if (!hex) return -1;
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

Reference read_numeric(std::string_view text, std::size_t amp) {
  // text[amp] == '&', text[amp + 1] == '#'
  std::size_t pos = amp + 2;
  const bool hex = pos < text.size() && text[pos] == 'x';
  if (hex) ++pos;
  const std::uint32_t base = hex ? 16 : 10;
  std::uint32_t value = 0;
  const std::size_t digits_start = pos;
  for (; pos < text.size(); ++pos) {
    const int d = digit_value(text[pos], hex);
    if (d < 0) break;
    // Past 0x10FFFF nothing is a character; stop growing but keep reading digits.
    if (value <= 0x10FFFF) value = value * base + static_cast<std::uint32_t>(d);
  }
  Reference ref;
  if (pos == digits_start || pos >= text.size() || text[pos] != ';' || !is_xml_char(value)) {
    return ref;  // kMalformed
  }
  ref.kind = Reference::Kind::kCharacter;
  ref.length = pos + 1 - amp;
  ref.code_point = value;
  return ref;
}

}  // namespace

Reference read_reference(std::string_view text, std::size_t amp) {
  Reference ref;
  if (amp + 1 >= text.size()) return ref;
  if (text[amp + 1] == '#') return read_numeric(text, amp);
  if (!is_name_start(text[amp + 1])) return ref;
  std::size_t pos = amp + 2;
  while (pos < text.size() && is_name_char(text[pos])) ++pos;
  if (pos >= text.size() || text[pos] != ';') return ref;
  const std::string_view name = text.substr(amp + 1, pos - amp - 1);
  ref.length = pos + 1 - amp;
  ref.kind = Reference::Kind::kCharacter;
  if (name == "amp") {
    ref.code_point = '&';
  } else if (name == "lt") {
    ref.code_point = '<';
  } else if (name == "gt") {
    ref.code_point = '>';
  } else if (name == "apos") {
    ref.code_point = '\'';
  } else if (name == "quot") {
    ref.code_point = '"';
  } else {
    ref.kind = Reference::Kind::kEntity;
  }
  return ref;
}

}  // namespace sb::xml
