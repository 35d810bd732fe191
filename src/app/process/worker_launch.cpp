// Worker command lines; see worker_launch.hpp.
#include "app/process/worker_launch.hpp"

#include <cstdlib>

#include <uv.h>

#include <algorithm>
#include <charconv>

#include "app/process/fd_budget.hpp"

namespace sb::app {

std::uint32_t resolve_worker_count(std::uint32_t configured, std::uint32_t max_sessions,
                                   std::uint64_t fd_limit, std::string* why) {
  // Honours the CPU affinity mask (taskset, cgroup cpusets), not just the core count.
  const unsigned int cores = configured == 0 ? uv_available_parallelism() : 1;
  WorkerChoice choice = choose_workers(configured, max_sessions, fd_limit, cores);
  if (why != nullptr) *why = std::move(choice.why);
  return choice.workers;
}

std::vector<std::string> worker_arguments(std::string_view program, const Config& config,
                                          std::uint32_t index, bool board, bool metrics,
                                          bool upgrade, bool keeper) {
  std::vector<std::string> args{std::string(program), std::string(kWorkerIndexOption),
                                std::to_string(index)};
  if (board) args.emplace_back(kWorkerBoardOption);
  if (metrics) args.emplace_back(kWorkerMetricsOption);
  if (upgrade) args.emplace_back(kWorkerUpgradeOption);
  if (keeper) args.emplace_back(kWorkerKeeperOption);
  for (const ConfigEntry& entry : config_entries(config)) {
    args.emplace_back("--set");
    args.push_back(entry.key + "=" + entry.value);
  }
  return args;
}

std::optional<WorkerLaunch> worker_launch_from(int argc, char** argv, std::string& error) {
  error.clear();
  if (argc < 2 || std::string_view(argv[1]) != kWorkerIndexOption) return std::nullopt;
  WorkerLaunch launch;
  const std::string_view text = argc >= 3 ? std::string_view(argv[2]) : std::string_view();
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), launch.index);
  if (text.empty() || ec != std::errc() || end != text.data() + text.size() ||
      launch.index >= 1024) {
    error = std::string(kWorkerIndexOption) + " needs a worker index from 0 to 1023";
    return launch;
  }
  int first = 3;
  if (argc > 3 && std::string_view(argv[3]) == kWorkerBoardOption) {
    launch.board = true;
    ++first;
  }
  if (argc > first && std::string_view(argv[first]) == kWorkerMetricsOption) {
    launch.metrics = true;
    ++first;
  }
  if (argc > first && std::string_view(argv[first]) == kWorkerUpgradeOption) {
    launch.upgrade = true;
    ++first;
  }
  if (argc > first && std::string_view(argv[first]) == kWorkerKeeperOption) {
    launch.keeper = true;
    ++first;
  }
  launch.cli_args.emplace_back(argv[0]);
  for (int i = first; i < argc; ++i) launch.cli_args.emplace_back(argv[i]);
  return launch;
}

std::string listen_address(const Config& config) { return listen_address(config.listen); }

std::string listen_address(const base::HostPort& address) {
  const std::string port = std::to_string(address.port);
  if (address.host.find(':') != std::string::npos) return "[" + address.host + "]:" + port;
  return address.host + ":" + port;
}

std::string tls_listen_address(const Config& config) {
  return config.tls_listen ? listen_address(*config.tls_listen) : std::string();
}

bool share_ticket_secret() {
  const auto secret = net::TicketSecret::generate();
  return secret && ::setenv(kTicketSecretEnv, secret->to_hex().c_str(), 1) == 0;
}

std::optional<net::TicketSecret> ticket_secret_from_environment() {
  const char* hex = std::getenv(kTicketSecretEnv);
  if (hex == nullptr) return net::TicketSecret::generate();
  return net::TicketSecret::from_hex(hex);
}

}  // namespace sb::app
