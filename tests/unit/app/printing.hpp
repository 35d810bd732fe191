// Lets doctest print the values these tests compare most (lists of messages,
// addresses), so a failing CHECK shows what it saw instead of "{?}".
#pragma once

#include <doctest/doctest.h>

#include <string>
#include <vector>

#include "base/host_port.hpp"

namespace doctest {
template <>
struct StringMaker<std::vector<std::string>> {
  static String convert(const std::vector<std::string>& lines) {
    std::string text = "[";
    for (const auto& line : lines) text += "\n  \"" + line + "\"";
    text += lines.empty() ? "]" : "\n]";
    return String(text.c_str());
  }
};
template <>
struct StringMaker<sb::base::HostPort> {
  static String convert(const sb::base::HostPort& address) {
    return String(address.to_string().c_str());
  }
};
}  // namespace doctest
