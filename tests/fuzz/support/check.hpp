// FUZZ_CHECK: the invariant checks of the fuzz targets.
//
// A broken invariant must look like a crash to libFuzzer (so it saves the input
// and stops) and must say what broke: the condition, where, and a short detail.
// abort() does both: libFuzzer reports "deadly signal" and writes crash-<sha1>.
// The checks stay on in every build type (no NDEBUG dependence).
#pragma once

#include <cstdio>
#include <cstdlib>
#include <string_view>

namespace sb::fuzz {

[[noreturn]] inline void check_failed(const char* condition, const char* file, int line,
                                      std::string_view detail) {
  std::fprintf(stderr, "\n==FUZZ INVARIANT== %s:%d: %s\n  %.*s\n", file, line, condition,
               static_cast<int>(detail.size()), detail.data());
  std::fflush(stderr);
  std::abort();
}

}  // namespace sb::fuzz

#define FUZZ_CHECK(condition, detail)                                                     \
  do {                                                                                    \
    if (!(condition)) ::sb::fuzz::check_failed(#condition, __FILE__, __LINE__, (detail)); \
  } while (false)
