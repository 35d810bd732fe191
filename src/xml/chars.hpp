// Character classes of XML 1.0 that the hand-written scanners of this folder share
// (the framer, the raw-markup readers, the body pre-scan). Only what those scanners
// need: they work on UTF-8 bytes, so every byte >= 0x80 counts as a name character,
// which is right for all well-formed input and harmless for the rest.
#pragma once

#include <cstdint>
#include <string>

namespace sb::xml {

// XML white space: space, tab, carriage return, line feed.
constexpr bool is_xml_space(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; }

// First character of a name (tag or attribute): a letter, '_', ':' or non-ASCII.
constexpr bool is_name_start(char c) {
  const auto u = static_cast<unsigned char>(c);
  return (u >= 'a' && u <= 'z') || (u >= 'A' && u <= 'Z') || u == '_' || u == ':' || u >= 0x80;
}

// Any later character of a name: also digits, '-' and '.'.
constexpr bool is_name_char(char c) {
  return is_name_start(c) || (c >= '0' && c <= '9') || c == '-' || c == '.';
}

// Whether a code point is a Char of XML 1.0 (what a character reference may name).
constexpr bool is_xml_char(std::uint32_t cp) {
  return cp == 0x9 || cp == 0xA || cp == 0xD || (cp >= 0x20 && cp <= 0xD7FF) ||
         (cp >= 0xE000 && cp <= 0xFFFD) || (cp >= 0x10000 && cp <= 0x10FFFF);
}

// Appends the UTF-8 encoding of a code point the caller has checked with is_xml_char.
void append_utf8(std::string& out, std::uint32_t cp);

}  // namespace sb::xml
