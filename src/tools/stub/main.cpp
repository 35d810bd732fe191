// switchboard-stub: a TEST TOOL. A minimal XMPP c2s server (RFC 6120 subset) that
// accepts any password, for scale runs of switchboard and switchboard-soak on one
// machine, where a real server would be the bottleneck. Never used by the
// correctness tests. See docs/stub.md.
#include <cstdio>
#include <string>

#include "tools/stub/options.hpp"
#include "tools/stub/supervisor.hpp"

int main(int argc, char** argv) {
  sb::stub::Options options;
  std::string error;
  switch (sb::stub::parse_options(argc, argv, options, error)) {
    case sb::stub::ParseResult::kHelp: std::fputs(sb::stub::kHelpText, stdout); return 0;
    case sb::stub::ParseResult::kVersion:
      std::printf("switchboard-stub %s (test tool)\n", SWITCHBOARD_VERSION);
      return 0;
    case sb::stub::ParseResult::kError:
      std::fprintf(stderr, "switchboard-stub: %s\n", error.c_str());
      return 2;
    case sb::stub::ParseResult::kRun: break;
  }
  return sb::stub::run_supervisor(options);
}
