// The fuzz_http_bosh input format: a tiny line-oriented script, so that seeds can
// be written by hand (or cut from a real transcript) and libFuzzer's byte mutations
// still produce mostly meaningful scripts.
//
// The input is a list of records separated by "\n@" (a leading '@' is optional):
//
//   @<op><a>[.<b>] <payload>
//
// `op` is one character, `a` and `b` optional decimal numbers (0 when absent,
// saturating), then one space or newline, then the payload up to the next "\n@".
// Anything unknown is skipped, never rejected: a mutated script still does work.
// What each op means is World's business (see world.hpp).
#pragma once

#include <cstdint>
#include <string_view>
#include <vector>

namespace sb::fuzz {

struct Command {
  char op = 0;
  std::uint32_t a = 0;
  std::uint32_t b = 0;
  std::string_view payload;  // a view into the fuzz input
};

std::vector<Command> parse_script(std::string_view input);

}  // namespace sb::fuzz
