// Reading one XML reference ("&amp;", "&#233;", "&#xE9;", "&custom;") out of raw
// bytes. Two readers need it: decode_references() (attribute values the fix-ups and
// the xmpp layer look at) and the pre-scan of client bodies, which must reject custom
// entities before pugixml sees them.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>

namespace sb::xml {

struct Reference {
  enum class Kind : std::uint8_t {
    kCharacter,  // one of the 5 predefined entities or a numeric reference to a legal Char
    kEntity,     // a well-formed reference to any other entity (never expanded)
    kMalformed,  // a bare '&', an unterminated reference, or a number naming no Char
  };
  Kind kind = Kind::kMalformed;
  std::size_t length = 0;        // bytes from '&' to ';' inclusive (kCharacter, kEntity)
  std::uint32_t code_point = 0;  // the character (kCharacter)
};

// Reads the reference that starts with the '&' at text[amp].
Reference read_reference(std::string_view text, std::size_t amp);

}  // namespace sb::xml
