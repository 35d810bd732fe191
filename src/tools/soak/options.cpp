// Command-line parsing for switchboard-soak: a table-free, explicit walk over argv
// (each flag takes at most one value, `--flag value` or `--flag=value`), checks of
// every value's range, and the URL split into host, port and path. Bad input is
// reported once with the flag's name so a script's author sees what to fix.
#include "tools/soak/options.hpp"

#include <algorithm>
#include <charconv>
#include <cstdlib>
#include <string_view>

namespace sb::soak {

namespace {

bool to_u64(std::string_view text, std::uint64_t& out) {
  const auto* end = text.data() + text.size();
  auto [ptr, ec] = std::from_chars(text.data(), end, out);
  return ec == std::errc() && ptr == end && !text.empty();
}

bool to_double(const std::string& text, double& out) {
  if (text.empty()) return false;
  char* end = nullptr;
  out = std::strtod(text.c_str(), &end);
  return end != nullptr && *end == '\0';
}

// http://host[:port][/path] or ws://... (the same endpoint address either way;
// ws:// also picks --transport websocket unless it is given). https and wss are
// refused: the generator speaks plain HTTP (loopback targets; a TLS terminator in
// front is the target's business).
bool parse_url(const std::string& url, Options& o, bool& ws_scheme, std::string& error) {
  constexpr std::string_view kHttp = "http://";
  constexpr std::string_view kWs = "ws://";
  std::size_t scheme = 0;
  ws_scheme = false;
  if (url.compare(0, kHttp.size(), kHttp) == 0) {
    scheme = kHttp.size();
  } else if (url.compare(0, kWs.size(), kWs) == 0) {
    scheme = kWs.size();
    ws_scheme = true;
  } else {
    error = "--url must start with http:// or ws:// (got '" + url + "')";
    return false;
  }
  std::string_view rest = std::string_view(url).substr(scheme);
  const std::size_t slash = rest.find('/');
  std::string_view authority = rest.substr(0, slash);
  o.path = slash == std::string_view::npos ? "/" : std::string(rest.substr(slash));
  std::size_t colon = authority.rfind(':');
  if (!authority.empty() && authority.front() == '[') {
    const std::size_t close = authority.find(']');
    if (close == std::string_view::npos) {
      error = "--url: unterminated IPv6 address";
      return false;
    }
    if (colon < close) colon = std::string_view::npos;
  }
  if (colon != std::string_view::npos) {
    std::uint64_t port = 0;
    if (!to_u64(authority.substr(colon + 1), port) || port == 0 || port > 65535) {
      error = "--url: bad port in '" + url + "'";
      return false;
    }
    o.port = static_cast<std::uint16_t>(port);
    authority = authority.substr(0, colon);
  }
  if (authority.size() >= 2 && authority.front() == '[')
    authority = authority.substr(1, authority.size() - 2);
  if (authority.empty()) {
    error = "--url: no host in '" + url + "'";
    return false;
  }
  o.host = std::string(authority);
  return true;
}

}  // namespace

std::string expand_pattern(const std::string& pattern, std::uint64_t n) {
  std::string out;
  out.reserve(pattern.size() + 8);
  for (std::size_t i = 0; i < pattern.size(); ++i) {
    if (pattern[i] == '%' && i + 1 < pattern.size()) {
      if (pattern[i + 1] == 'd') {
        out.append(std::to_string(n));
        ++i;
        continue;
      }
      if (pattern[i + 1] == '%') {
        out.push_back('%');
        ++i;
        continue;
      }
    }
    out.push_back(pattern[i]);
  }
  return out;
}

const char* bosh_client_name(BoshClient client) {
  return client == BoshClient::kClassic ? "classic" : "strophe";
}

const char* help_text() {
  return R"(switchboard-soak: a BOSH (XEP-0124/XEP-0206) and WebSocket (RFC 7395) load generator for XMPP web chat

usage: switchboard-soak --url http://HOST:PORT/PATH [options]

target and accounts
  --url URL            BOSH endpoint (switchboard /http-bind, ejabberd /bosh, Prosody /http-bind)
                       or WebSocket endpoint (ws://...: switchboard /xmpp-websocket,
                       ejabberd /ws, Prosody /xmpp-websocket)
  --transport bosh|websocket   (default bosh; websocket with a ws:// URL)
  --domain D           XMPP domain, the session request's to= (default localhost)
  --user-pattern P     user name, %d = session number (default u%d)
  --password P         password pattern (%d as above); implies --sasl plain
  --first-user N       number of the first session (default 1)
  --sasl plain|anonymous   (default: plain with --password, else anonymous)
  --resource R         resource to bind (default soak)
  --roster             fetch the roster after binding
load
  --sessions N         sessions to hold (default 10)
  --duration S         seconds to run after the first login starts (default 10)
  --rate R             logins started per second, in all (default 100)
  --msg-rate R         chat messages per second, in all (default 0)
  --msg-size B         bytes of message body (default 64, at least 40)
  --peers pairs|random who talks to whom (default pairs: 1<->2, 3<->4, ...)
  --hold N  --wait S   BOSH: the session request's hold (default 1) and wait (default 60)
  --ack                BOSH: ask for acks (ack='1') in the session request
  --client strophe|classic   BOSH: how requests are scheduled and resent (default strophe:
                       as Strophe.js 5: answers handled as they come, a failed request
                       resent at once, then after min(1.1 * wait, n^3) s, newer rids sent
                       meanwhile within the window, given up at the 5th error in a row, a
                       request older than 1.1 * wait resent; classic: rid order, every
                       resend at once, up to 4 tries, a failed creation not resent)
refused logins (HTTP 5xx to the session creation or the WebSocket upgrade)
  --retry-as strophe|converse|none   the real client to play (default: strophe over
                       BOSH: the same request again at once, after 8, 27, 64 s, give up
                       at the 5th refusal; converse over WebSocket: again and again, a
                       burst then every 1-8 s, never giving up); none: the first refusal
                       ends the login
  --honour-retry-after wait the answer's Retry-After instead (same number of tries)
flaky link
  --drop P             BOSH: fraction of requests whose connection is cut before the answer;
                       websocket: fraction of sessions cut once (they end: no resume)
  --cut-delay MS       BOSH: after a --drop cut, the session's requests (the resend first)
                       wait MS, so the server sees the cut before the resend, as through
                       a real link (default 50 with --client strophe, whose cut resets
                       the server's side; 0 with classic, which just closes its socket)
  --delay MS           BOSH: delay before each request is written
generator
  --procs N            processes, each with its share of the sessions (default 1)
  --source A-B         spread connections over source addresses 127.0.1.1-127.0.1.250
                       (default: automatic when one address's ports are not enough;
                       'none' turns it off)
  --conn-idle MS       a session's second connection closes after MS idle (default 2000)
  --connect-timeout MS (default 10000)
  --drain S            after the run, seconds to wait for messages in flight (default 5;
                       with --drop and --client strophe, 5 + Strophe's delays before a
                       request's 3rd and 4th sends: 24 with --wait 10, 40 with 60)
  --max-lag MS         event-loop lag counted as generator overload (default 50)
output
  --json FILE          the JSON report
  --html FILE          the HTML report (plots over time)
  --watch-pid PID      sample RSS/CPU/fds of PID and its children (repeatable)
  --max-errors N       errors tolerated before the exit status says failure (default 0)
  --quiet              no progress line
  --help

exit status: 0 when every session logged in, no error beyond --max-errors, no message
lost or duplicated; 1 otherwise; 2 on a bad command line. See docs/soak.md.
)";
}

bool parse_options(int argc, char** argv, Options& o, bool& help, std::string& error) {
  help = false;
  bool sasl_given = false;
  bool transport_given = false;
  bool ws_scheme = false;
  bool drain_given = false;
  for (int i = 1; i < argc; ++i) {
    std::string flag = argv[i];
    std::string value;
    bool has_value = false;
    if (const std::size_t eq = flag.find('=');
        flag.rfind("--", 0) == 0 && eq != std::string::npos) {
      value = flag.substr(eq + 1);
      flag.resize(eq);
      has_value = true;
    }
    auto need = [&]() -> bool {
      if (has_value) return true;
      if (i + 1 >= argc) {
        error = flag + " needs a value";
        return false;
      }
      value = argv[++i];
      has_value = true;
      return true;
    };
    auto u64 = [&](std::uint64_t& out, std::uint64_t lo, std::uint64_t hi) -> bool {
      if (!need()) return false;
      if (!to_u64(value, out) || out < lo || out > hi) {
        error = flag + ": expected a whole number in [" + std::to_string(lo) + ", " +
                std::to_string(hi) + "], got '" + value + "'";
        return false;
      }
      return true;
    };
    auto real = [&](double& out, double lo, double hi) -> bool {
      if (!need()) return false;
      if (!to_double(value, out) || out < lo || out > hi) {
        error = flag + ": expected a number in range, got '" + value + "'";
        return false;
      }
      return true;
    };
    std::uint64_t n = 0;
    if (flag == "--help" || flag == "-h") {
      help = true;
      return true;
    } else if (flag == "--url") {
      if (!need()) return false;
      o.url = value;
      if (!parse_url(value, o, ws_scheme, error)) return false;
    } else if (flag == "--transport") {
      if (!need()) return false;
      transport_given = true;
      if (value == "bosh") {
        o.transport = TransportKind::kBosh;
      } else if (value == "websocket" || value == "ws") {
        o.transport = TransportKind::kWebSocket;
      } else {
        error = "--transport: bosh or websocket, got '" + value + "'";
        return false;
      }
    } else if (flag == "--domain") {
      if (!need()) return false;
      o.domain = value;
    } else if (flag == "--user-pattern") {
      if (!need()) return false;
      o.user_pattern = value;
    } else if (flag == "--password") {
      if (!need()) return false;
      o.password = value;
      o.password_given = true;
    } else if (flag == "--first-user") {
      if (!u64(o.first_user, 0, 1ull << 40)) return false;
    } else if (flag == "--sasl") {
      if (!need()) return false;
      sasl_given = true;
      if (value == "plain") {
        o.sasl = SaslMech::kPlain;
      } else if (value == "anonymous") {
        o.sasl = SaslMech::kAnonymous;
      } else {
        error = "--sasl: plain or anonymous, got '" + value + "'";
        return false;
      }
    } else if (flag == "--resource") {
      if (!need()) return false;
      o.resource = value;
    } else if (flag == "--roster") {
      o.roster = true;
    } else if (flag == "--sessions") {
      if (!u64(o.sessions, 1, 10'000'000)) return false;
    } else if (flag == "--duration") {
      if (!real(o.duration_s, 0.1, 86400.0 * 30)) return false;
    } else if (flag == "--rate") {
      if (!real(o.rate, 0.01, 1e6)) return false;
    } else if (flag == "--msg-rate") {
      if (!real(o.msg_rate, 0, 1e7)) return false;
    } else if (flag == "--msg-size") {
      if (!u64(n, 40, 1 << 20)) return false;
      o.msg_size = static_cast<std::uint32_t>(n);
    } else if (flag == "--peers") {
      if (!need()) return false;
      if (value == "pairs") {
        o.peers = PeerMode::kPairs;
      } else if (value == "random") {
        o.peers = PeerMode::kRandom;
      } else {
        error = "--peers: pairs or random, got '" + value + "'";
        return false;
      }
    } else if (flag == "--hold") {
      if (!u64(n, 0, 16)) return false;
      o.hold = static_cast<unsigned>(n);
    } else if (flag == "--wait") {
      if (!u64(n, 1, 3600)) return false;
      o.wait = static_cast<unsigned>(n);
    } else if (flag == "--ack") {
      o.ack = true;
    } else if (flag == "--client") {
      if (!need()) return false;
      if (value == "strophe") {
        o.client = BoshClient::kStrophe;
      } else if (value == "classic") {
        o.client = BoshClient::kClassic;
      } else {
        error = "--client: strophe or classic, got '" + value + "'";
        return false;
      }
    } else if (flag == "--retry-as") {
      if (!need()) return false;
      if (value == "strophe") {
        o.retry_as = RetryAs::kStrophe;
      } else if (value == "converse") {
        o.retry_as = RetryAs::kConverse;
      } else if (value == "none") {
        o.retry_as = RetryAs::kNone;
      } else {
        error = "--retry-as: strophe, converse or none, got '" + value + "'";
        return false;
      }
    } else if (flag == "--honour-retry-after") {
      o.honour_retry_after = true;
    } else if (flag == "--drop") {
      if (!real(o.drop, 0, 0.9)) return false;
    } else if (flag == "--cut-delay") {
      if (!u64(n, 0, 10'000)) return false;
      o.cut_delay_ms = static_cast<std::int32_t>(n);
    } else if (flag == "--delay") {
      if (!u64(n, 0, 600'000)) return false;
      o.delay_ms = static_cast<std::uint32_t>(n);
    } else if (flag == "--procs") {
      if (!u64(n, 1, 1000)) return false;
      o.procs = static_cast<unsigned>(n);
    } else if (flag == "--source") {
      if (!need()) return false;
      o.source = value;
    } else if (flag == "--conn-idle") {
      if (!u64(n, 0, 3'600'000)) return false;
      o.conn_idle_ms = static_cast<std::uint32_t>(n);
    } else if (flag == "--connect-timeout") {
      if (!u64(n, 100, 600'000)) return false;
      o.connect_timeout_ms = static_cast<std::uint32_t>(n);
    } else if (flag == "--drain") {
      drain_given = true;
      if (!u64(n, 0, 3600)) return false;
      o.drain_s = static_cast<std::uint32_t>(n);
    } else if (flag == "--max-lag") {
      if (!real(o.max_lag_ms, 1, 60000)) return false;
    } else if (flag == "--json") {
      if (!need()) return false;
      o.json_file = value;
    } else if (flag == "--html") {
      if (!need()) return false;
      o.html_file = value;
    } else if (flag == "--watch-pid") {
      if (!u64(n, 1, 1u << 30)) return false;
      o.watch_pids.push_back(static_cast<int>(n));
    } else if (flag == "--max-errors") {
      if (!u64(n, 0, 1ull << 40)) return false;
      o.max_errors = static_cast<std::int64_t>(n);
    } else if (flag == "--quiet") {
      o.quiet = true;
    } else {
      error = "unknown option '" + flag + "' (see --help)";
      return false;
    }
    if (has_value && (flag == "--roster" || flag == "--ack" || flag == "--quiet" ||
                      flag == "--honour-retry-after")) {
      error = flag + " takes no value";
      return false;
    }
  }
  if (o.url.empty()) {
    error = "--url is required (see --help)";
    return false;
  }
  if (!transport_given && ws_scheme) o.transport = TransportKind::kWebSocket;
  if (o.transport == TransportKind::kWebSocket && o.delay_ms > 0) {
    error = "--delay is for BOSH requests; a WebSocket session has no requests to delay";
    return false;
  }
  if (o.cut_delay_ms < 0) o.cut_delay_ms = o.client == BoshClient::kStrophe ? 50 : 0;
  // A message in a request cut twice waits Strophe's backoff (8 s, then up to 27 s)
  // before it goes again: the drain must outlast that, or late counts as lost. It
  // ends as soon as every message has arrived, so it costs only runs that lose some.
  if (!drain_given && o.drop > 0 && o.transport == TransportKind::kBosh &&
      o.client == BoshClient::kStrophe) {
    const std::uint32_t cap = o.wait * 11 / 10;  // Strophe's floor(1.1 * wait)
    o.drain_s = 5 + std::min<std::uint32_t>(cap, 8) + std::min<std::uint32_t>(cap, 27);
  }
  if (!sasl_given) o.sasl = o.password_given ? SaslMech::kPlain : SaslMech::kAnonymous;
  if (o.procs > o.sessions) o.procs = static_cast<unsigned>(o.sessions);
  return true;
}

}  // namespace sb::soak
