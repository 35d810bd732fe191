// How the supervisor starts a worker process, and how that process knows it is
// one.
//
// A worker is the same binary (/proc/self/exe) started with a hidden first
// argument, `--worker-index I`, followed by the supervisor's whole configuration
// as `--set key=value` options (format_config()). So every worker runs exactly
// the configuration the supervisor validated, even if the config file changed
// since, and a worker restarted an hour later runs it too. `workers` arrives
// already resolved (never 0), so all processes agree on the count. The IPC pipe
// to the supervisor is the worker's file descriptor kWorkerIpcFd.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "app/config.hpp"

namespace sb::app {

inline constexpr int kWorkerIpcFd = 3;
inline constexpr std::string_view kWorkerIndexOption = "--worker-index";

// `workers` as configured, with 0 meaning one per CPU core the process may use.
std::uint32_t resolve_worker_count(std::uint32_t configured);

// The argv of worker `index` (program name first).
std::vector<std::string> worker_arguments(std::string_view program, const Config& config,
                                          std::uint32_t index);

struct WorkerLaunch {
  std::uint32_t index = 0;
  std::vector<std::string> cli_args;  // the rest, program name first, for parse_command_line
};

// Recognizes a worker's command line (argv[1] is kWorkerIndexOption). nullopt if
// this is not one; when it is one but malformed, `error` says why (check it first).
std::optional<WorkerLaunch> worker_launch_from(int argc, char** argv, std::string& error);

// The configured listen address as the listener takes it: "ip:port" or "[ip6]:port".
std::string listen_address(const Config& config);

}  // namespace sb::app
