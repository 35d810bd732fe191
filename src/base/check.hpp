// SB_CHECK(condition, why): an invariant the code relies on, checked where it is
// stated instead of only written in a comment.
//
// In the test, sanitizer and fuzz builds (SWITCHBOARD_CHECKS, see the top-level
// CMakeLists.txt) a broken invariant prints where, what and why, and aborts: the
// suites and the fuzzers then stop at the cause, not at a crash far from it. In a
// release build the check compiles to nothing and the condition is not even
// evaluated, so it must have no side effects; the hot paths pay nothing.
#pragma once

#if defined(SWITCHBOARD_CHECKS)

#include <cstdio>
#include <cstdlib>

namespace sb::base {

[[noreturn]] inline void check_failed(const char* condition, const char* why, const char* file,
                                      int line) {
  std::fprintf(stderr, "%s:%d: invariant broken: %s (%s)\n", file, line, condition, why);
  std::fflush(stderr);
  std::abort();
}

}  // namespace sb::base

#define SB_CHECK(condition, why)      \
  ((condition) ? static_cast<void>(0) \
               : ::sb::base::check_failed(#condition, why, __FILE__, __LINE__))

#else

// Not evaluated; sizeof keeps the names in it "used" for the compiler.
#define SB_CHECK(condition, why) static_cast<void>(sizeof((condition) ? 1 : 0))

#endif

namespace sb::base {
// Whether SB_CHECK is on in this build.
inline constexpr bool kChecksOn =
#if defined(SWITCHBOARD_CHECKS)
    true;
#else
    false;
#endif
}  // namespace sb::base
