// Options of switchboard-soak: every command-line flag, its default, and the
// parsing of the command line into one plain struct that the rest of the tool
// reads (the runner, the transports, the report). docs/soak.md is the manual;
// help_text() is its short form. The spellings are an interface others script
// against (issue 7): keep them.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "tools/soak/refusal.hpp"

namespace sb::soak {

enum class SaslMech { kPlain, kAnonymous };
enum class PeerMode { kPairs, kRandom };
enum class TransportKind { kBosh, kWebSocket };
// How a BOSH session schedules and resends its requests (--client): as Strophe.js
// 5 does (the default; bosh_transport.hpp lists the rules), or the generator's
// earlier "classic" profile (answers in rid order, every resend at once, up to 4
// tries, a wait + 10 s timeout, a failed session creation not resent).
enum class BoshClient : std::uint8_t { kStrophe, kClassic };

struct Options {
  // Target.
  TransportKind transport = TransportKind::kBosh;
  std::string url;   // http:// or ws://host:port/path of the endpoint
  std::string host;  // parsed from url
  std::uint16_t port = 80;
  std::string path = "/";
  std::string domain = "localhost";

  // Accounts: %d is the session's number, counted from first_user.
  std::string user_pattern = "u%d";
  std::string password;  // pattern too; empty means ANONYMOUS unless --sasl plain
  bool password_given = false;
  std::uint64_t first_user = 1;
  SaslMech sasl = SaslMech::kAnonymous;
  std::string resource = "soak";
  bool roster = false;

  // Load shape.
  std::uint64_t sessions = 10;
  double duration_s = 10;
  double rate = 100;            // logins started per second, in all
  double msg_rate = 0;          // chat messages per second, in all
  std::uint32_t msg_size = 64;  // bytes of <body/> text
  PeerMode peers = PeerMode::kPairs;
  unsigned hold = 1;
  unsigned wait = 60;
  bool ack = false;                          // send ack='1' in the session request
  BoshClient client = BoshClient::kStrophe;  // request scheduling and resends (--client)

  // A refused login (5xx to the session creation or the upgrade; refusal.hpp).
  RetryAs retry_as = RetryAs::kDefault;  // strophe over BOSH, converse over WebSocket
  bool honour_retry_after = false;       // wait Retry-After instead of the client's delay

  // Flaky link.
  double drop = 0;  // fraction of requests whose connection is cut
  std::int32_t cut_delay_ms =
      -1;  // BOSH: after a cut, requests wait this long (-1: 50 strophe, 0 classic)
  std::uint32_t delay_ms = 0;  // delay before each request is written

  // Scale of the generator itself.
  unsigned procs = 1;
  std::string source;                 // "A-B" IPv4 range; "" = automatic; "none" = off
  std::uint32_t conn_idle_ms = 2000;  // a spare connection closes after this idle
  std::uint32_t connect_timeout_ms = 10000;
  std::uint32_t drain_s =
      5;                   // after the run: time for messages still in flight (see parse_options)
  double max_lag_ms = 50;  // loop lag above this counts as generator overload

  // Output.
  std::string json_file;
  std::string html_file;
  std::vector<int> watch_pids;
  std::int64_t max_errors = 0;  // the run fails when errors exceed this
  bool quiet = false;           // no progress line
};

// Parses argv into `out`. Returns false with `error` set on a bad command line;
// sets `help` when --help was asked for (then returns true).
bool parse_options(int argc, char** argv, Options& out, bool& help, std::string& error);

// "strophe" or "classic".
const char* bosh_client_name(BoshClient client);

// The short usage text printed by --help.
const char* help_text();

// %d in `pattern` replaced by `n` (every occurrence; %% is a literal %).
std::string expand_pattern(const std::string& pattern, std::uint64_t n);

}  // namespace sb::soak
