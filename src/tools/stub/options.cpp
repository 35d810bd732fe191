// Command-line parsing for switchboard-stub. Options take their value as the next
// argument or after '=' (--procs=4). Unknown options are errors: a scale run with
// a mistyped option should fail at once, not run with defaults.
#include "tools/stub/options.hpp"

#include <charconv>
#include <string_view>

namespace sb::stub {

const char* const kHelpText =
    "switchboard-stub: a minimal XMPP c2s server for scale runs.\n"
    "TEST TOOL ONLY: any password is accepted, nothing is stored, no TLS.\n"
    "\n"
    "Usage: switchboard-stub --listen ADDR:PORT [options]\n"
    "\n"
    "  --listen ADDR:PORT  address to listen on (127.0.0.1:5222, [::1]:5222);\n"
    "                      port 0 picks a free port, printed once ready\n"
    "  --procs N           worker processes on the one port (SO_REUSEPORT),\n"
    "                      1..128, default 1; messages reach a session in any of them\n"
    "  --domain D          serve only domain D (other 'to' values get host-unknown);\n"
    "                      default: serve whatever domain the client names\n"
    "  --fd-limit N        a worker stops accepting at N open descriptors and resumes\n"
    "                      below it; default 19500, at most the fd limit minus 100\n"
    "  --log-level L       error, warn, info (default) or debug (one line per session)\n"
    "  --help              this text\n"
    "  --version           the version\n"
    "\n"
    "Prints 'listening on ADDR:PORT' on stdout when every worker is listening.\n"
    "SIGTERM or SIGINT stops every process. See docs/stub.md.\n";

namespace {

bool parse_size(std::string_view text, std::size_t& out) {
  const auto* end = text.data() + text.size();
  const auto [ptr, ec] = std::from_chars(text.data(), end, out);
  return ec == std::errc() && ptr == end && !text.empty();
}

bool parse_listen(std::string_view text, Options& options) {
  std::string_view host;
  std::string_view port;
  if (!text.empty() && text.front() == '[') {
    const auto close = text.find(']');
    if (close == std::string_view::npos || close + 1 >= text.size() || text[close + 1] != ':') {
      return false;
    }
    host = text.substr(1, close - 1);
    port = text.substr(close + 2);
  } else {
    const auto colon = text.rfind(':');
    if (colon == std::string_view::npos) return false;
    host = text.substr(0, colon);
    port = text.substr(colon + 1);
  }
  std::size_t value = 0;
  if (host.empty() || !parse_size(port, value) || value > 65535) return false;
  options.listen_host = std::string(host);
  options.listen_port = static_cast<int>(value);
  return true;
}

}  // namespace

std::string listen_address(const std::string& host, int port) {
  std::string out = host.find(':') != std::string::npos ? "[" + host + "]" : host;
  out += ':';
  out += std::to_string(port);
  return out;
}

ParseResult parse_options(int argc, char** argv, Options& options, std::string& error) {
  bool have_listen = false;
  for (int i = 1; i < argc; ++i) {
    std::string_view arg = argv[i];
    std::string_view value;
    bool has_value = false;
    if (const auto eq = arg.find('='); arg.starts_with("--") && eq != std::string_view::npos) {
      value = arg.substr(eq + 1);
      arg = arg.substr(0, eq);
      has_value = true;
    }
    if (arg == "--help" || arg == "-h") return ParseResult::kHelp;
    if (arg == "--version") return ParseResult::kVersion;
    const bool wants_value = arg == "--listen" || arg == "--procs" || arg == "--domain" ||
                             arg == "--fd-limit" || arg == "--log-level";
    if (!wants_value) {
      error = "unknown option '" + std::string(arg) + "' (see --help)";
      return ParseResult::kError;
    }
    if (!has_value) {
      if (i + 1 >= argc) {
        error = std::string(arg) + " needs a value";
        return ParseResult::kError;
      }
      value = argv[++i];
    }
    if (arg == "--listen") {
      if (!parse_listen(value, options)) {
        error = "--listen wants ADDR:PORT, e.g. 127.0.0.1:5222, not '" + std::string(value) + "'";
        return ParseResult::kError;
      }
      have_listen = true;
    } else if (arg == "--procs") {
      if (!parse_size(value, options.procs) || options.procs < 1 || options.procs > kMaxProcs) {
        error = "--procs wants a number from 1 to " + std::to_string(kMaxProcs);
        return ParseResult::kError;
      }
    } else if (arg == "--domain") {
      options.domain = std::string(value);
    } else if (arg == "--fd-limit") {
      if (!parse_size(value, options.fd_limit) || options.fd_limit < 16) {
        error = "--fd-limit wants a number of at least 16";
        return ParseResult::kError;
      }
    } else if (!parse_log_level(value, options.log_level)) {
      error = "--log-level wants error, warn, info or debug";
      return ParseResult::kError;
    }
  }
  if (!have_listen) {
    error = "--listen ADDR:PORT is required (see --help)";
    return ParseResult::kError;
  }
  return ParseResult::kRun;
}

}  // namespace sb::stub
