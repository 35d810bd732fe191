// lowercase(): ASCII lower case of a string, for the comparisons the engine makes
// without regard to case (domain names in routing, the hex of key sequencing);
// equals_ignoring_case(): the same comparison against a lower-case literal,
// without a copy (header parameter names, schemes).
#pragma once

#include <algorithm>
#include <cctype>
#include <string>
#include <string_view>

namespace sb::bosh {

inline std::string lowercase(std::string_view text) {
  std::string out(text);
  std::transform(out.begin(), out.end(), out.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return out;
}

inline bool equals_ignoring_case(std::string_view text, std::string_view lower) {
  if (text.size() != lower.size()) return false;
  for (std::size_t i = 0; i < text.size(); ++i) {
    const char c = (text[i] >= 'A' && text[i] <= 'Z') ? static_cast<char>(text[i] - 'A' + 'a') : text[i];
    if (c != lower[i]) return false;
  }
  return true;
}

}  // namespace sb::bosh
