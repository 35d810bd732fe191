// Writing the exposition text; see metrics_text.hpp.
#include "app/metrics/metrics_text.hpp"

#include <cinttypes>
#include <cstdio>

#include "switchboard_version.hpp"

namespace sb::app {
namespace {

class Writer {
 public:
  explicit Writer(std::string& out) : out_(out) {}

  void family(const char* name, const char* type, const char* help) {
    out_.append("# HELP ").append(name).append(" ").append(help).append("\n");
    out_.append("# TYPE ").append(name).append(" ").append(type).append("\n");
  }
  void sample(const char* name, std::uint64_t value, std::string_view labels = {}) {
    char number[24];
    std::snprintf(number, sizeof number, "%" PRIu64, value);
    line(name, labels, number);
  }
  void sample_signed(const char* name, std::int64_t value, std::string_view labels = {}) {
    char number[24];
    std::snprintf(number, sizeof number, "%" PRId64, value);
    line(name, labels, number);
  }
  void sample_double(const char* name, double value, std::string_view labels = {}) {
    char number[40];
    std::snprintf(number, sizeof number, "%.15g", value);
    line(name, labels, number);
  }

 private:
  void line(const char* name, std::string_view labels, const char* value) {
    out_.append(name);
    if (!labels.empty()) out_.append("{").append(labels).append("}");
    out_.append(" ").append(value).append("\n");
  }
  std::string& out_;
};

std::string label(std::string_view name, std::string_view value) {
  // Our label values are fixed words and numbers: nothing to escape.
  return std::string(name) + "=\"" + std::string(value) + "\"";
}

std::string_view condition_label(std::size_t index) {
  if (index == metric::kWorkerLost) return "worker-lost";
  if (index == 0) return "none";
  return engine::condition_name(static_cast<engine::Condition>(index));
}

std::string le_label(double bound) {
  char text[32];
  std::snprintf(text, sizeof text, "%g", bound);
  return label("le", text);
}

// A histogram in seconds over kConnectBounds, from per-bucket counts (not
// cumulative) at counters[buckets ...] and the sum of microseconds at
// counters[micros].
void histogram_seconds(Writer& w, const std::uint64_t* counters, const char* name, const char* help,
                       std::size_t buckets, std::size_t micros) {
  w.family(name, "histogram", help);
  const std::string base(name);
  std::uint64_t cumulative = 0;
  for (std::size_t i = 0; i < metric::kConnectBuckets; ++i) {
    cumulative += counters[buckets + i];
    const std::string le = i < std::size(metric::kConnectBounds)
                               ? le_label(metric::kConnectBounds[i])
                               : label("le", "+Inf");
    w.sample((base + "_bucket").c_str(), cumulative, le);
  }
  w.sample_double((base + "_sum").c_str(), static_cast<double>(counters[micros]) / 1e6);
  w.sample((base + "_count").c_str(), cumulative);
}

}  // namespace

std::string render_metrics(const MetricsTotals& t, const ProcessTotals& process,
                           const DaemonFigures& daemon) {
  std::string out;
  out.reserve(8192);
  Writer w(out);
  const auto c = [&t](std::size_t index) { return t.counters[index]; };

  w.family("switchboard_build_info", "gauge", "Always 1; the version is a label.");
  w.sample("switchboard_build_info", 1, label("version", kProjectVersion));
  w.family("switchboard_workers", "gauge", "Worker processes running.");
  w.sample("switchboard_workers", daemon.workers_running);
  w.family("switchboard_workers_configured", "gauge",
           "Worker processes the daemon runs when all are up.");
  w.sample("switchboard_workers_configured", daemon.workers_configured);
  w.family("switchboard_worker_restarts_total", "counter",
           "Worker processes started again, by reason: exited (unasked) or hung (killed for "
           "missing heartbeats).");
  w.sample("switchboard_worker_restarts_total", daemon.worker_restarts_exited,
           label("reason", "exited"));
  w.sample("switchboard_worker_restarts_total", daemon.worker_restarts_hung,
           label("reason", "hung"));

  w.family("switchboard_sessions", "gauge",
           "Sessions open, BOSH and WebSocket (sampled each second).");
  w.sample_signed("switchboard_sessions", t.sessions);
  w.family("switchboard_sessions_created_total", "counter",
           "Sessions created, BOSH and WebSocket.");
  w.sample("switchboard_sessions_created_total", c(metric::kSessionsCreated));
  w.family("switchboard_sessions_ended_total", "counter",
           "Sessions ended, BOSH and WebSocket, by the condition the client was told (none: a "
           "clean or silent end).");
  for (std::size_t i = 0; i < metric::kConditionSlots; ++i) {
    const std::string_view name = condition_label(i);
    if (name.empty()) continue;
    w.sample("switchboard_sessions_ended_total", c(metric::kSessionsEnded + i),
             label("condition", name));
  }
  w.family("switchboard_requests_total", "counter",
           "BOSH requests that reached a session or created one, by kind.");
  for (std::size_t i = 0; i < metric::kRequestKinds; ++i) {
    w.sample("switchboard_requests_total", c(metric::kRequests + i),
             label("kind", engine::request_kind_label(static_cast<engine::RequestKind>(i))));
  }
  w.family("switchboard_held_requests", "gauge",
           "BOSH requests held open, waiting for something to answer (sampled each second).");
  w.sample_signed("switchboard_held_requests", t.held_requests);
  w.family("switchboard_refused_requests_total", "counter",
           "Requests answered with an error before any session took them, by reason.");
  for (std::size_t i = 0; i < metric::kRefusalSlots; ++i) {
    const std::string_view reason = i == metric::kConnectionBusy
                                        ? std::string_view("connection_busy")
                                        : engine::refusal_label(static_cast<engine::Refusal>(i));
    w.sample("switchboard_refused_requests_total", c(metric::kRefused + i),
             label("reason", reason));
  }

  w.family("switchboard_websocket_connections", "gauge",
           "Client connections switched to WebSocket, with or without a stream yet (sampled each "
           "second).");
  w.sample_signed("switchboard_websocket_connections", t.websocket_connections);
  w.family("switchboard_websocket_sessions_created_total", "counter",
           "WebSocket sessions created (also counted in switchboard_sessions_created_total).");
  w.sample("switchboard_websocket_sessions_created_total", c(metric::kWsSessionsCreated));
  w.family("switchboard_websocket_messages_total", "counter",
           "WebSocket text messages (one stanza or framing element each), by direction.");
  w.sample("switchboard_websocket_messages_total", c(metric::kWsMessages + metric::kToServer),
           label("direction", "to_server"));
  w.sample("switchboard_websocket_messages_total", c(metric::kWsMessages + metric::kFromServer),
           label("direction", "from_server"));

  w.family("switchboard_http_connections", "gauge",
           "Client HTTP connections open (sampled each second).");
  w.sample_signed("switchboard_http_connections", t.http_connections);
  w.family("switchboard_http_connections_accepted_total", "counter",
           "Client HTTP connections accepted, or adopted from another worker.");
  w.sample("switchboard_http_connections_accepted_total", c(metric::kHttpConnections));
  w.family("switchboard_http_responses_total", "counter",
           "HTTP responses sent to clients, by status code.");
  for (std::size_t code = 100; code < metric::kStatusCodes; ++code) {
    const std::uint64_t n = c(metric::kResponses + code);
    if (n == 0 && code != 200) continue;  // 200 always, so the family is never empty
    w.sample("switchboard_http_responses_total", n, label("code", std::to_string(code)));
  }
  w.family("switchboard_proxy_headers_refused_total", "counter",
           "Connections closed for a missing or malformed PROXY protocol header.");
  w.sample("switchboard_proxy_headers_refused_total", c(metric::kProxyHeadersRefused));

  w.family("switchboard_upstream_connections", "gauge",
           "Connections to XMPP servers: connecting, open or closing (sampled each second).");
  w.sample_signed("switchboard_upstream_connections", t.upstream_links);
  w.family(
      "switchboard_upstream_connect_failures_total", "counter",
      "Connections to XMPP servers that could not be made (refused, unresolvable, timed out).");
  w.sample("switchboard_upstream_connect_failures_total", c(metric::kUpstreamConnectFailures));
  histogram_seconds(
      w, t.counters, "switchboard_upstream_connect_seconds",
      "Time to connect to the XMPP server (name resolution and TCP), for connections made.",
      metric::kConnectBucket, metric::kConnectMicros);
  w.family("switchboard_logins_in_progress", "gauge",
           "Logins whose XMPP stream is still opening (connect and stream header), all workers "
           "(sampled each second).");
  w.sample_signed("switchboard_logins_in_progress", t.logins_in_progress);
  w.family("switchboard_logins_queued", "gauge",
           "BOSH session creations waiting their turn (overload control; sampled each second).");
  w.sample_signed("switchboard_logins_queued", t.logins_queued);
  w.family("switchboard_login_rate", "gauge",
           "Logins a second the workers admit now, all together (overload control; sampled each "
           "second).");
  w.sample_signed("switchboard_login_rate", t.login_rate);
  w.family("switchboard_login_opening_failures_total", "counter",
           "Logins whose XMPP stream the server did not open (no connection, no stream header in "
           "time, closed).");
  w.sample("switchboard_login_opening_failures_total", c(metric::kLoginOpeningFailures));
  histogram_seconds(w, t.counters, "switchboard_login_opening_seconds",
                    "How long an admitted login waited for its XMPP stream: connect and the "
                    "server's stream header.",
                    metric::kLoginBucket, metric::kLoginMicros);
  histogram_seconds(
      w, t.counters, "switchboard_login_queue_seconds",
      "How long a BOSH session creation waited its turn before it started (overload control); "
      "those admitted at once are not counted.",
      metric::kQueueBucket, metric::kQueueMicros);
  w.family("switchboard_login_queue_timeouts_total", "counter",
           "BOSH session creations that waited their turn the longest allowed (10 s) and were then "
           "refused with 503.");
  w.sample("switchboard_login_queue_timeouts_total", c(metric::kQueueGaveUp));
  w.family("switchboard_upgrade_sessions_total", "counter",
           "Sessions an upgrade in place moved to the new daemon (outcome moved), or ended because "
           "they could not move (outcome ended, by reason: busy, websocket, tls, link, other).");
  w.sample("switchboard_upgrade_sessions_total", c(metric::kUpgradeSessions),
           label("outcome", "moved") + "," + label("reason", "none"));
  for (std::size_t i = 1; i < metric::kUpgradeReasonSlots; ++i) {
    w.sample("switchboard_upgrade_sessions_total", c(metric::kUpgradeSessions + i),
             label("outcome", "ended") + "," + label("reason", metric::kUpgradeReasons[i]));
  }
  w.family("switchboard_stanzas_total", "counter",
           "Top-level XMPP elements relayed, by direction.");
  w.sample("switchboard_stanzas_total", c(metric::kStanzas + metric::kToServer),
           label("direction", "to_server"));
  w.sample("switchboard_stanzas_total", c(metric::kStanzas + metric::kFromServer),
           label("direction", "from_server"));
  w.family("switchboard_upstream_bytes_total", "counter",
           "Bytes on the connections to XMPP servers (TLS records included), by direction.");
  w.sample("switchboard_upstream_bytes_total", c(metric::kUpstreamBytes + metric::kToServer),
           label("direction", "to_server"));
  w.sample("switchboard_upstream_bytes_total", c(metric::kUpstreamBytes + metric::kFromServer),
           label("direction", "from_server"));

  w.family("switchboard_handovers_total", "counter",
           "Client connections passed between workers: sent by the worker that read the request, "
           "adopted by its session's owner.");
  w.sample("switchboard_handovers_total", c(metric::kHandoversSent), label("side", "sent"));
  w.sample("switchboard_handovers_total", c(metric::kHandoversAdopted), label("side", "adopted"));
  w.family("switchboard_handovers_relayed_total", "counter",
           "Hand-overs the supervisor passed on to their worker.");
  w.sample("switchboard_handovers_relayed_total", daemon.handovers_relayed);
  w.family(
      "switchboard_handovers_dropped_total", "counter",
      "Hand-overs the supervisor dropped (the owner was down too long, or the frame was bad).");
  w.sample("switchboard_handovers_dropped_total", daemon.handovers_dropped);
  w.family("switchboard_handovers_refused_total", "counter",
           "Of the dropped hand-overs, those answered 503 at once: the owner was not reading its "
           "pipe in time, or the supervisor held too many sockets.");
  w.sample("switchboard_handovers_refused_total", daemon.handovers_refused);
  w.family("switchboard_handovers_lost_total", "counter",
           "Hand-over frames that came without their socket (a process at its file limit), or "
           "sockets without a frame.");
  w.sample("switchboard_handovers_lost_total", daemon.handovers_lost);
  w.family("switchboard_relay_held_sockets", "gauge",
           "Client sockets the supervisor holds on their way to their owner.");
  w.sample("switchboard_relay_held_sockets", daemon.relay_held_sockets);

  w.family("process_cpu_seconds_total", "counter",
           "User and system CPU time of all the daemon's processes, in seconds.");
  w.sample_double("process_cpu_seconds_total", process.cpu_seconds);
  w.family("process_resident_memory_bytes", "gauge",
           "Resident memory of all the daemon's processes, in bytes.");
  w.sample("process_resident_memory_bytes", process.resident_bytes);
  w.family("process_open_fds", "gauge", "Open file descriptors of all the daemon's processes.");
  w.sample_signed("process_open_fds", process.open_fds);
  w.family("process_max_fds", "gauge",
           "The sum of the daemon's processes' file descriptor limits.");
  w.sample_signed("process_max_fds", process.max_fds);
  w.family("process_start_time_seconds", "gauge",
           "Start time of the daemon (its first process), in seconds since the epoch.");
  w.sample_double("process_start_time_seconds", process.start_time_seconds);
  return out;
}

}  // namespace sb::app
