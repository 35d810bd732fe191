// The soak's command-line parser called as main() calls it, from a list of
// arguments (the program name is added), for the tests of its options.
#pragma once

#include <string>
#include <vector>

#include "tools/soak/options.hpp"

namespace sb::soak::test {

inline bool parse(std::vector<std::string> args, Options& o, std::string& error) {
  std::vector<char*> argv;
  static char name[] = "switchboard-soak";
  argv.push_back(name);
  for (auto& a : args) argv.push_back(a.data());
  bool help = false;
  return parse_options(static_cast<int>(argv.size()), argv.data(), o, help, error);
}

}  // namespace sb::soak::test
