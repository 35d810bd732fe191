// switchboard-soak: the BOSH and WebSocket load generator (docs/soak.md is its manual).
// main() only wires the parts: options, the target's address, the source
// addresses, the run (one process or --procs children), and the reports.
#include <netdb.h>
#include <sys/resource.h>
#include <sys/socket.h>

#include <cstdio>
#include <cstring>
#include <ctime>
#include <fstream>

#include "tools/soak/collector.hpp"
#include "tools/soak/env.hpp"
#include "tools/soak/options.hpp"
#include "tools/soak/procs.hpp"
#include "tools/soak/report.hpp"
#include "tools/soak/ws_transport.hpp"

#ifdef SB_SOAK_HAVE_REPORT
#include "tools/soak/report/html_report.hpp"
#endif

namespace {

using namespace sb::soak;

bool resolve(const Options& o, sockaddr_storage& out) {
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* result = nullptr;
  const std::string port = std::to_string(o.port);
  if (getaddrinfo(o.host.c_str(), port.c_str(), &hints, &result) != 0 || result == nullptr)
    return false;
  // Prefer IPv4: source ranges are IPv4.
  const addrinfo* pick = result;
  for (const addrinfo* a = result; a != nullptr; a = a->ai_next) {
    if (a->ai_family == AF_INET) {
      pick = a;
      break;
    }
  }
  std::memcpy(&out, pick->ai_addr, pick->ai_addrlen);
  freeaddrinfo(result);
  return true;
}

// --source: as given, "none", or chosen here when one source address's ephemeral
// ports could not hold the connections (a session can have two at once, and each
// spare connection the client closes sits in TIME_WAIT for a minute).
bool choose_sources(const Options& o, const sockaddr_storage& target, SourceAddresses& sources) {
  std::string error;
  if (o.source == "none") return true;
  if (!o.source.empty()) {
    if (sources.parse(o.source, error)) return true;
    std::fprintf(stderr, "switchboard-soak: %s\n", error.c_str());
    return false;
  }
  const bool loopback =
      target.ss_family == AF_INET &&
      (ntohl(reinterpret_cast<const sockaddr_in*>(&target)->sin_addr.s_addr) >> 24) == 127;
  const double needed = static_cast<double>(o.sessions) * 1.5;
  if (loopback && needed > 0.8 * static_cast<double>(ephemeral_port_count())) {
    sources.parse("127.0.1.1-127.0.1.250", error);
  }
  return true;
}

void raise_fd_limit(const Options& o, std::size_t per_proc) {
  rlimit lim{};
  if (getrlimit(RLIMIT_NOFILE, &lim) != 0) return;
  lim.rlim_cur = lim.rlim_max;
  setrlimit(RLIMIT_NOFILE, &lim);
  // Busy sessions hold two sockets; the idle ones one.
  const std::size_t want = per_proc * 2 + 64;
  if (lim.rlim_cur != RLIM_INFINITY && want > lim.rlim_cur) {
    std::fprintf(stderr,
                 "switchboard-soak: warning: %zu sessions per process may need %zu descriptors, "
                 "the limit is %llu; "
                 "use --procs %llu or more\n",
                 per_proc, want, static_cast<unsigned long long>(lim.rlim_cur),
                 static_cast<unsigned long long>(o.sessions * 2 / (lim.rlim_cur - 64) + 1));
  }
}

std::string iso_now() {
  const std::time_t now = std::time(nullptr);
  std::tm tm{};
  gmtime_r(&now, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

double wall_seconds() {
  timespec ts{};
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) / 1e9;
}

// The start of every request (BOSH) or of the upgrade (WebSocket); each session
// adds the rest.
std::string request_head(const Options& o) {
  std::string host_header = o.host.find(':') != std::string::npos ? "[" + o.host + "]" : o.host;
  const std::string host = host_header + ":" + std::to_string(o.port);
  if (o.transport == TransportKind::kWebSocket) {
    // RFC 6455 §4.1 and RFC 7395 §3.1; each session adds its Sec-WebSocket-Key.
    return "GET " + o.path + " HTTP/1.1\r\nHost: " + host +
           "\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Version: 13\r\n"
           "Sec-WebSocket-Protocol: xmpp\r\n";
  }
  return "POST " + o.path + " HTTP/1.1\r\nHost: " + host +
         "\r\nContent-Type: text/xml; charset=utf-8\r\n";
}

// The summary on stdout, then the files asked for; 1 when one could not be written.
int write_reports(const Options& o, const Collector& collector, const RunInfo& info) {
  print_summary(o, collector, info);
  const std::string json = build_json(o, collector, info);
  int status = 0;
  if (!o.json_file.empty()) {
    std::ofstream out(o.json_file, std::ios::binary | std::ios::trunc);
    out << json;
    if (!out) {
      std::fprintf(stderr, "switchboard-soak: cannot write %s\n", o.json_file.c_str());
      status = 1;
    }
  }
#ifdef SB_SOAK_HAVE_REPORT
  std::string error;
  if (!o.html_file.empty() && !write_html_report(json, o.html_file, error)) {
    std::fprintf(stderr, "switchboard-soak: %s\n", error.c_str());
    status = 1;
  }
#endif
  return status;
}

}  // namespace

int main(int argc, char** argv) {
  Options o;
  bool help = false;
  std::string error;
  if (!parse_options(argc, argv, o, help, error)) {
    std::fprintf(stderr, "switchboard-soak: %s\n", error.c_str());
    return 2;
  }
  if (help) {
    std::fputs(help_text(), stdout);
    return 0;
  }
#ifndef SB_SOAK_HAVE_REPORT
  if (!o.html_file.empty()) {
    std::fprintf(stderr,
                 "switchboard-soak: built without the HTML report; --html is not available\n");
    return 2;
  }
#endif
  Env proto;
  if (!resolve(o, proto.target)) {
    std::fprintf(stderr, "switchboard-soak: cannot resolve %s\n", o.host.c_str());
    return 2;
  }
  if (!choose_sources(o, proto.target, proto.sources)) return 2;
  proto.request_head = request_head(o);
  if (o.transport == TransportKind::kWebSocket) WsTransport::warm_up();
  const std::vector<Share> shares = make_shares(o);
  o.procs = static_cast<unsigned>(shares.size());
  raise_fd_limit(o, static_cast<std::size_t>(shares.front().count));

  RunInfo info;
  info.started_at = iso_now();
  const double t0 = wall_seconds();
  Collector collector(o, o.procs);
  const bool ran = run_shares(o, proto, shares, collector);
  collector.flush();
  collector.end_progress();
  info.duration_s = wall_seconds() - t0;

  const int status = write_reports(o, collector, info);
  std::string why;
  if (exit_status(o, collector.totals(), why) != 0 || !ran) {
    std::printf("FAILED: %s\n", ran ? why.c_str() : "a generator process did not report");
    return 1;
  }
  return status;
}
