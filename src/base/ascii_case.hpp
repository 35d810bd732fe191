// ASCII case: the one lower-casing and case-insensitive compare of Switchboard, for
// the names that ignore case on the wire or in the configuration: domain and host
// names, URI schemes, HTTP header names and tokens, the hex digits of BOSH keys.
//
// ASCII only, whatever the locale: 'A'-'Z' become 'a'-'z' and no other byte
// changes (a UTF-8 byte above 0x7f stays as it is). The locale-aware std::tolower
// would do the same only while the process runs in the "C" locale.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace sb::base {

constexpr char ascii_lower(char c) {
  return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c;
}

// `text` in ASCII lower case.
inline std::string lowercase(std::string_view text) {
  std::string out(text);
  for (char& c : out) c = ascii_lower(c);
  return out;
}

// `a` and `b` are equal up to ASCII case.
constexpr bool equals_ignoring_case(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    if (ascii_lower(a[i]) != ascii_lower(b[i])) return false;
  }
  return true;
}

}  // namespace sb::base
