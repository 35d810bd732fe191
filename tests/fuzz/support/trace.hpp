// Optional tracing for reading what a fuzz input does: with SB_FUZZ_TRACE=1 in
// the environment, the targets print each step to stderr. Off while fuzzing.
#pragma once

#include <cstdio>
#include <cstdlib>
#include <string_view>

namespace sb::fuzz {

inline bool tracing() {
  static const bool on = std::getenv("SB_FUZZ_TRACE") != nullptr;
  return on;
}

// Prints "<label> <text>" with control characters made visible, cut at 300 bytes.
inline void trace(std::string_view label, std::string_view text) {
  if (!tracing()) return;
  std::fprintf(stderr, "%.*s ", static_cast<int>(label.size()), label.data());
  for (std::size_t i = 0; i < text.size() && i < 300; ++i) {
    const char c = text[i];
    if (c == '\r') {
      std::fputs("\\r", stderr);
    } else if (c == '\n') {
      std::fputs("\\n", stderr);
    } else {
      std::fputc(c, stderr);
    }
  }
  std::fputs(text.size() > 300 ? "...\n" : "\n", stderr);
}

}  // namespace sb::fuzz
