// UTF-8 validation per RFC 3629 (Table 3-7 of the Unicode standard): the second byte's
// allowed range depends on the first, which is where overlongs (E0, F0), surrogates
// (ED) and code points above U+10FFFF (F4) are excluded. ASCII is checked eight bytes
// at a time: a word with no high bit and no byte below 0x20 needs no further look.
#include "xml/utf8_check.hpp"

#include <cstring>

namespace sb::xml {
namespace {

constexpr std::uint64_t kHighBits = 0x8080808080808080ULL;
constexpr std::uint64_t kOnes = 0x0101010101010101ULL;

// True if some byte of the word is < 0x20 (classic "has less than" bit trick; exact
// for bytes without the high bit, which the caller has checked).
bool has_control_byte(std::uint64_t word) {
  return ((word - kOnes * 0x20) & ~word & kHighBits) != 0;
}

bool in(unsigned char c, unsigned lo, unsigned hi) { return c >= lo && c <= hi; }

}  // namespace

TextCheck check_xml_text(std::string_view bytes) {
  const auto* p = reinterpret_cast<const unsigned char*>(bytes.data());
  const std::size_t n = bytes.size();
  std::size_t i = 0;
  while (i < n) {
    if (i + 8 <= n) {
      std::uint64_t word;
      std::memcpy(&word, p + i, sizeof word);
      if ((word & kHighBits) == 0 && !has_control_byte(word)) {
        i += 8;
        continue;
      }
    }
    const unsigned char c = p[i];
    if (c < 0x80) {
      if (c < 0x20 && c != '\t' && c != '\n' && c != '\r') return TextCheck::kIllegalChar;
      ++i;
      continue;
    }
    std::size_t length;
    unsigned lo = 0x80, hi = 0xBF;  // allowed range of the second byte
    if (in(c, 0xC2, 0xDF)) {
      length = 2;
    } else if (in(c, 0xE0, 0xEF)) {
      length = 3;
      if (c == 0xE0) lo = 0xA0;
      if (c == 0xED) hi = 0x9F;
    } else if (in(c, 0xF0, 0xF4)) {
      length = 4;
      if (c == 0xF0) lo = 0x90;
      if (c == 0xF4) hi = 0x8F;
    } else {
      return TextCheck::kInvalidUtf8;  // continuation byte, C0/C1 overlong lead, F5..FF
    }
    if (n - i < length || !in(p[i + 1], lo, hi)) return TextCheck::kInvalidUtf8;
    for (std::size_t k = 2; k < length; ++k) {
      if (!in(p[i + k], 0x80, 0xBF)) return TextCheck::kInvalidUtf8;
    }
    // U+FFFE and U+FFFF (EF BF BE / EF BF BF) are valid UTF-8 but not XML characters.
    if (c == 0xEF && p[i + 1] == 0xBF && p[i + 2] >= 0xBE) return TextCheck::kIllegalChar;
    i += length;
  }
  return TextCheck::kOk;
}

}  // namespace sb::xml
