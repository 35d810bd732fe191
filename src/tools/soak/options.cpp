// Command-line parsing for switchboard-soak: a walk over argv that looks each flag
// up in a table (each flag takes at most one value, `--flag value` or
// `--flag=value`), checks of every value's range, and the URL split into host, port
// and path. Bad input is reported once with the flag's name so a script's author
// sees what to fix.
#include "tools/soak/options.hpp"

#include <algorithm>
#include <charconv>
#include <cstdlib>
#include <initializer_list>
#include <string_view>
#include <utility>

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

namespace {

// One walk over argv: the flag at hand with its value (`--flag value` or
// `--flag=value`), and what the checks after the walk need to know was given.
// The flags' handlers below parse through it, so most are one line and every
// bad value is reported in the same words.
struct Walk {
  Walk(int count, char** args, Options& options, std::string& message)
      : argc(count), argv(args), o(options), error(message) {}

  int argc;
  char** argv;
  Options& o;
  std::string& error;
  int i = 1;
  std::string flag;
  std::string value;
  bool has_value = false;
  bool sasl_given = false;
  bool transport_given = false;
  bool ws_scheme = false;
  bool drain_given = false;

  // Takes argv[i]: `--flag=value` is split at the first '=', anything else is a flag.
  void take_flag() {
    flag = argv[i];
    value.clear();
    has_value = false;
    if (const std::size_t eq = flag.find('=');
        flag.rfind("--", 0) == 0 && eq != std::string::npos) {
      value = flag.substr(eq + 1);
      flag.resize(eq);
      has_value = true;
    }
  }

  // The flag's value: after its '=', else the next argument, whatever it looks like.
  bool need() {
    if (has_value) return true;
    if (i + 1 >= argc) {
      error = flag + " needs a value";
      return false;
    }
    value = argv[++i];
    has_value = true;
    return true;
  }

  bool text(std::string& out) {
    if (!need()) return false;
    out = value;
    return true;
  }

  template <typename T>
  bool whole(T& out, std::uint64_t lo, std::uint64_t hi) {
    if (!need()) return false;
    std::uint64_t n = 0;
    if (!to_u64(value, n) || n < lo || n > hi) {
      error = flag + ": expected a whole number in [" + std::to_string(lo) + ", " +
              std::to_string(hi) + "], got '" + value + "'";
      return false;
    }
    out = static_cast<T>(n);
    return true;
  }

  bool real(double& out, double lo, double hi) {
    if (!need()) return false;
    if (!to_double(value, out) || out < lo || out > hi) {
      error = flag + ": expected a number in range, got '" + value + "'";
      return false;
    }
    return true;
  }

  // One of a few words; `expected` lists them for the error (--transport's "ws"
  // is accepted without being listed).
  template <typename T>
  bool choose(T& out, std::initializer_list<std::pair<std::string_view, T>> words,
              const char* expected) {
    if (!need()) return false;
    for (const auto& [word, meaning] : words) {
      if (value == word) {
        out = meaning;
        return true;
      }
    }
    error = flag + ": " + expected + ", got '" + value + "'";
    return false;
  }
};

// A switch's handler (and --drain's note that it was given).
bool on(bool& out) {
  out = true;
  return true;
}

struct Flag {
  std::string_view name;
  bool (*handle)(Walk&);
  bool takes_value = true;  // a switch given `=value` is refused
};

// Every flag but --help, in help_text()'s order. The ranges are the tool's
// interface as much as the names are (docs/soak.md).
constexpr Flag kFlags[] = {
    // Target and accounts.
    {"--url",
     [](Walk& w) { return w.text(w.o.url) && parse_url(w.value, w.o, w.ws_scheme, w.error); }},
    {"--transport",
     [](Walk& w) {
       w.transport_given = true;
       return w.choose(w.o.transport,
                       {{"bosh", TransportKind::kBosh},
                        {"websocket", TransportKind::kWebSocket},
                        {"ws", TransportKind::kWebSocket}},
                       "bosh or websocket");
     }},
    {"--domain", [](Walk& w) { return w.text(w.o.domain); }},
    {"--user-pattern", [](Walk& w) { return w.text(w.o.user_pattern); }},
    {"--password", [](Walk& w) { return w.text(w.o.password) && on(w.o.password_given); }},
    {"--first-user", [](Walk& w) { return w.whole(w.o.first_user, 0, 1ull << 40); }},
    {"--sasl",
     [](Walk& w) {
       w.sasl_given = true;
       return w.choose(w.o.sasl, {{"plain", SaslMech::kPlain}, {"anonymous", SaslMech::kAnonymous}},
                       "plain or anonymous");
     }},
    {"--resource", [](Walk& w) { return w.text(w.o.resource); }},
    {"--roster", [](Walk& w) { return on(w.o.roster); }, false},
    // Load.
    {"--sessions", [](Walk& w) { return w.whole(w.o.sessions, 1, 10'000'000); }},
    {"--duration", [](Walk& w) { return w.real(w.o.duration_s, 0.1, 86400.0 * 30); }},
    {"--rate", [](Walk& w) { return w.real(w.o.rate, 0.01, 1e6); }},
    {"--msg-rate", [](Walk& w) { return w.real(w.o.msg_rate, 0, 1e7); }},
    {"--msg-size", [](Walk& w) { return w.whole(w.o.msg_size, 40, 1 << 20); }},
    {"--peers",
     [](Walk& w) {
       return w.choose(w.o.peers, {{"pairs", PeerMode::kPairs}, {"random", PeerMode::kRandom}},
                       "pairs or random");
     }},
    {"--hold", [](Walk& w) { return w.whole(w.o.hold, 0, 16); }},
    {"--wait", [](Walk& w) { return w.whole(w.o.wait, 1, 3600); }},
    {"--ack", [](Walk& w) { return on(w.o.ack); }, false},
    {"--client",
     [](Walk& w) {
       return w.choose(w.o.client,
                       {{"strophe", BoshClient::kStrophe}, {"classic", BoshClient::kClassic}},
                       "strophe or classic");
     }},
    // Refused logins.
    {"--retry-as",
     [](Walk& w) {
       return w.choose(w.o.retry_as,
                       {{"strophe", RetryAs::kStrophe},
                        {"converse", RetryAs::kConverse},
                        {"none", RetryAs::kNone}},
                       "strophe, converse or none");
     }},
    {"--honour-retry-after", [](Walk& w) { return on(w.o.honour_retry_after); }, false},
    // Flaky link.
    {"--drop", [](Walk& w) { return w.real(w.o.drop, 0, 0.9); }},
    {"--cut-delay", [](Walk& w) { return w.whole(w.o.cut_delay_ms, 0, 10'000); }},
    {"--delay", [](Walk& w) { return w.whole(w.o.delay_ms, 0, 600'000); }},
    // Generator.
    {"--procs", [](Walk& w) { return w.whole(w.o.procs, 1, 1000); }},
    {"--source", [](Walk& w) { return w.text(w.o.source); }},
    {"--conn-idle", [](Walk& w) { return w.whole(w.o.conn_idle_ms, 0, 3'600'000); }},
    {"--connect-timeout", [](Walk& w) { return w.whole(w.o.connect_timeout_ms, 100, 600'000); }},
    {"--drain", [](Walk& w) { return on(w.drain_given) && w.whole(w.o.drain_s, 0, 3600); }},
    {"--max-lag", [](Walk& w) { return w.real(w.o.max_lag_ms, 1, 60000); }},
    // Output.
    {"--json", [](Walk& w) { return w.text(w.o.json_file); }},
    {"--html", [](Walk& w) { return w.text(w.o.html_file); }},
    {"--watch-pid",
     [](Walk& w) {
       int pid = 0;
       if (!w.whole(pid, 1, 1u << 30)) return false;
       w.o.watch_pids.push_back(pid);
       return true;
     }},
    {"--max-errors", [](Walk& w) { return w.whole(w.o.max_errors, 0, 1ull << 40); }},
    {"--quiet", [](Walk& w) { return on(w.o.quiet); }, false},
};

const Flag* find_flag(std::string_view name) {
  for (const Flag& f : kFlags) {
    if (f.name == name) return &f;
  }
  return nullptr;
}

// What depends on several flags, once all are read.
bool settle(const Walk& w, Options& o, std::string& error) {
  if (o.url.empty()) {
    error = "--url is required (see --help)";
    return false;
  }
  if (!w.transport_given && w.ws_scheme) o.transport = TransportKind::kWebSocket;
  if (o.transport == TransportKind::kWebSocket && o.delay_ms > 0) {
    error = "--delay is for BOSH requests; a WebSocket session has no requests to delay";
    return false;
  }
  if (o.cut_delay_ms < 0) o.cut_delay_ms = o.client == BoshClient::kStrophe ? 50 : 0;
  // A message in a request cut twice waits Strophe's backoff (8 s, then up to 27 s)
  // before it goes again: the drain must outlast that, or late counts as lost. It
  // ends as soon as every message has arrived, so it costs only runs that lose some.
  if (!w.drain_given && o.drop > 0 && o.transport == TransportKind::kBosh &&
      o.client == BoshClient::kStrophe) {
    const std::uint32_t cap = o.wait * 11 / 10;  // Strophe's floor(1.1 * wait)
    o.drain_s = 5 + std::min<std::uint32_t>(cap, 8) + std::min<std::uint32_t>(cap, 27);
  }
  if (!w.sasl_given) o.sasl = o.password_given ? SaslMech::kPlain : SaslMech::kAnonymous;
  if (o.procs > o.sessions) o.procs = static_cast<unsigned>(o.sessions);
  return true;
}

}  // namespace

bool parse_options(int argc, char** argv, Options& o, bool& help, std::string& error) {
  help = false;
  Walk w(argc, argv, o, error);
  for (; w.i < argc; ++w.i) {
    w.take_flag();
    if (w.flag == "--help" || w.flag == "-h") {
      help = true;
      return true;
    }
    const Flag* f = find_flag(w.flag);
    if (f == nullptr) {
      error = "unknown option '" + w.flag + "' (see --help)";
      return false;
    }
    if (!f->handle(w)) return false;
    if (w.has_value && !f->takes_value) {
      error = w.flag + " takes no value";
      return false;
    }
  }
  return settle(w, o, error);
}

}  // namespace sb::soak
