// Checking that raw bytes are UTF-8 text an XML 1.0 parser may accept, before any
// parser sees them. pugixml does not validate encodings and lets control characters
// through, and a client's bytes are forwarded to the XMPP server, which would end the
// whole stream (and so the session) on them. Rejecting them here keeps the fault with
// the one request that carried it.
#pragma once

#include <cstdint>
#include <string_view>

namespace sb::xml {

enum class TextCheck : std::uint8_t {
  kOk,
  kInvalidUtf8,  // bad sequence, overlong form, surrogate, or above U+10FFFF
  kIllegalChar,  // valid UTF-8 but not an XML 1.0 Char (C0 controls, U+FFFE, U+FFFF)
};

TextCheck check_xml_text(std::string_view bytes);

}  // namespace sb::xml
