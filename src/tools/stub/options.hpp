// The stub's command line: switchboard-stub --listen ADDR:PORT [--procs N]
// [--domain D] [--fd-limit N] [--log-level L] | --help | --version.
// Parsing only; what the options do is in supervisor.cpp and worker.cpp.
#pragma once

#include <cstddef>
#include <string>

#include "tools/stub/log.hpp"

namespace sb::stub {

struct Options {
  std::string listen_host;       // numeric IPv4 or IPv6 (without brackets)
  int listen_port = 0;           // 0: pick a free port (every process gets the same one)
  std::size_t procs = 1;         // worker processes sharing the port (SO_REUSEPORT)
  std::string domain;            // empty: accept any 'to' and serve that domain
  std::size_t fd_limit = 19500;  // a worker stops accepting at this many open fds
  LogLevel log_level = LogLevel::kInfo;
};

// The mesh between workers is one socketpair per pair, all made in the parent
// before forking: N*(N-1) descriptors there, so N stays well under the fd limit.
inline constexpr std::size_t kMaxProcs = 128;

enum class ParseResult { kRun, kHelp, kVersion, kError };

// Fills `options`; on kError `error` says what is wrong (one line).
ParseResult parse_options(int argc, char** argv, Options& options, std::string& error);

// "host:port" as the Listener wants it ("[::1]:5222" for IPv6).
std::string listen_address(const std::string& host, int port);

extern const char* const kHelpText;

}  // namespace sb::stub
