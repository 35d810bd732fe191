// lowercase(): ASCII lower case of a string, for the comparisons the engine makes
// without regard to case (domain names in routing, the hex of key sequencing).
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

}  // namespace sb::bosh
