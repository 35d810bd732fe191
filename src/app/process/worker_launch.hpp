// How the supervisor starts a worker process, and how that process knows it is
// one.
//
// A worker is the same binary (/proc/self/exe) started with a hidden first
// argument, `--worker-index I`, followed by the supervisor's whole configuration
// as `--set key=value` options (config_entries()). So every worker runs exactly
// the configuration the supervisor validated, even if the config file changed
// since, and a worker restarted an hour later runs it too. `workers` arrives
// already resolved (never 0), so all processes agree on the count. The IPC pipe
// to the supervisor is the worker's file descriptor kWorkerIpcFd; a second hidden
// argument, `--worker-board`, says that the supervisor's ListenBoard
// (listen_board.hpp) is file descriptor kWorkerBoardFd, and a third,
// `--worker-metrics` (after it, if both), that the MetricsBoard
// (metrics_board.hpp) is file descriptor kWorkerMetricsFd. A fourth,
// `--worker-upgrade`, says that the worker takes over from the same index of the
// daemon it replaces (an upgrade in place, supervisor_upgrade.hpp): its
// UpgradeChannel to that worker is file descriptor kWorkerUpgradeFd. A fifth,
// `--worker-keeper`, says that its end of the slot's keeper socket (keep_sessions,
// app/keeper/keeper.hpp) is file descriptor kWorkerKeeperFd.
//
// The HTTPS listener's session-ticket keys must be the same in every worker (a
// client resumes on whichever worker the kernel gives it), so the supervisor makes
// one secret they are all derived from (net/ticket_keys.hpp) once, at start, and
// passes it in the environment variable kTicketSecretEnv, not on the command line:
// another user can read a process's argv, not its environment. It is never
// written anywhere else, and a reload does not change it: a worker restarted
// later gets the same one.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "app/config/config.hpp"
#include "net/ticket_keys.hpp"

namespace sb::app {

inline constexpr int kWorkerIpcFd = 3;
inline constexpr int kWorkerBoardFd = 4;
inline constexpr int kWorkerMetricsFd = 5;
inline constexpr int kWorkerUpgradeFd = 6;
inline constexpr int kWorkerKeeperFd = 7;
inline constexpr std::string_view kWorkerIndexOption = "--worker-index";
inline constexpr std::string_view kWorkerBoardOption = "--worker-board";
inline constexpr std::string_view kWorkerMetricsOption = "--worker-metrics";
inline constexpr std::string_view kWorkerUpgradeOption = "--worker-upgrade";
inline constexpr std::string_view kWorkerKeeperOption = "--worker-keeper";

// `workers` as configured, with 0 (auto) meaning one per CPU core the process may
// use; `max_sessions` and `fd_limit` may ask for more (fd_budget.hpp). `why` (if
// not null) gets the reason, for the log.
std::uint32_t resolve_worker_count(std::uint32_t configured, std::uint32_t max_sessions = 0,
                                   std::uint64_t fd_limit = 0, std::string* why = nullptr);

// The argv of worker `index` (program name first); `board`: it gets the
// ListenBoard on kWorkerBoardFd; `metrics`: the MetricsBoard on kWorkerMetricsFd;
// `upgrade`: its UpgradeChannel on kWorkerUpgradeFd; `keeper`: its keeper's socket
// on kWorkerKeeperFd.
std::vector<std::string> worker_arguments(std::string_view program, const Config& config,
                                          std::uint32_t index, bool board = false,
                                          bool metrics = false, bool upgrade = false,
                                          bool keeper = false);

struct WorkerLaunch {
  std::uint32_t index = 0;
  bool board = false;                 // the ListenBoard is on kWorkerBoardFd
  bool metrics = false;               // the MetricsBoard is on kWorkerMetricsFd
  bool upgrade = false;               // it takes over: its UpgradeChannel is on kWorkerUpgradeFd
  bool keeper = false;                // its keeper's socket is on kWorkerKeeperFd
  std::vector<std::string> cli_args;  // the rest, program name first, for parse_command_line
};

// Recognizes a worker's command line (argv[1] is kWorkerIndexOption). nullopt if
// this is not one; when it is one but malformed, `error` says why (check it first).
std::optional<WorkerLaunch> worker_launch_from(int argc, char** argv, std::string& error);

inline constexpr const char* kTicketSecretEnv = "SWITCHBOARD_TLS_TICKET_SECRET";

// Supervisor: makes a fresh ticket secret and puts it in its environment, which
// every worker it starts inherits. False if the RNG fails.
bool share_ticket_secret();
// Worker: the secret from the environment; a fresh one when there is none (a lone
// worker). nullopt if the variable is malformed or the RNG fails.
std::optional<net::TicketSecret> ticket_secret_from_environment();

// The configured listen address as the listener takes it: "ip:port" or "[ip6]:port".
std::string listen_address(const Config& config);
// The same for any HostPort (metrics_listen).
std::string listen_address(const base::HostPort& address);
// The same for tls_listen (empty when there is none).
std::string tls_listen_address(const Config& config);

}  // namespace sb::app
