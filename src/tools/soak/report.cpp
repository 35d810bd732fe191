// JSON report, summary and verdict. The JSON is written by hand (a few dozen
// fields, no library needed); strings are escaped for JSON, numbers printed with
// enough digits for milliseconds.
#include "tools/soak/report.hpp"

#include <cstdio>

#include "switchboard_version.hpp"
#include "tools/soak/refusal.hpp"
#include "tools/soak/stop_request.hpp"

namespace sb::soak {

namespace {

std::string quote(const std::string& s) {
  std::string out = "\"";
  for (const char c : s) {
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\n': out += "\\n"; break;
      case '\r': out += "\\r"; break;
      case '\t': out += "\\t"; break;
      default:
        if (static_cast<unsigned char>(c) < 0x20) {
          char buf[8];
          std::snprintf(buf, sizeof buf, "\\u%04x", static_cast<unsigned>(c));
          out += buf;
        } else {
          out += c;
        }
    }
  }
  return out + "\"";
}

std::string num(double v) {
  char buf[40];
  std::snprintf(buf, sizeof buf, "%.3f", v);
  return buf;
}

std::string ms(std::uint64_t us) { return num(static_cast<double>(us) / 1000.0); }

std::string latency_json(const Histogram& h) {
  return "{\"count\": " + std::to_string(h.count()) + ", \"p50\": " + ms(h.quantile(0.5)) +
         ", \"p90\": " + ms(h.quantile(0.9)) + ", \"p99\": " + ms(h.quantile(0.99)) +
         ", \"p999\": " + ms(h.quantile(0.999)) + ", \"max\": " + ms(h.max()) + "}";
}

std::string errors_json(const Tally& t) {
  std::string out = "{";
  bool first = true;
  for (const auto& [kind, n] : t.errors_by_kind) {
    if (!first) out += ", ";
    first = false;
    out += quote(kind) + ": " + std::to_string(n);
  }
  return out + "}";
}

std::string options_json(const Options& o) {
  std::string pids = "[";
  for (std::size_t i = 0; i < o.watch_pids.size(); ++i)
    pids += (i ? ", " : "") + std::to_string(o.watch_pids[i]);
  pids += "]";
  return std::string("{") + "\"transport\": " +
         quote(o.transport == TransportKind::kWebSocket ? "websocket" : "bosh") +
         ", \"url\": " + quote(o.url) + ", \"domain\": " + quote(o.domain) +
         ", \"user_pattern\": " + quote(o.user_pattern) +
         ", \"password\": " + quote(o.password_given ? "***" : "") +
         ", \"first_user\": " + std::to_string(o.first_user) +
         ", \"sasl\": " + quote(o.sasl == SaslMech::kPlain ? "plain" : "anonymous") +
         ", \"resource\": " + quote(o.resource) + ", \"roster\": " + (o.roster ? "true" : "false") +
         ", \"sessions\": " + std::to_string(o.sessions) + ", \"duration\": " + num(o.duration_s) +
         ", \"rate\": " + num(o.rate) + ", \"msg_rate\": " + num(o.msg_rate) +
         ", \"msg_size\": " + std::to_string(o.msg_size) +
         ", \"peers\": " + quote(o.peers == PeerMode::kPairs ? "pairs" : "random") +
         ", \"hold\": " + std::to_string(o.hold) + ", \"wait\": " + std::to_string(o.wait) +
         ", \"ack\": " + (o.ack ? "true" : "false") +
         ", \"client\": " + quote(bosh_client_name(o.client)) +
         ", \"retry_as\": " + quote(retry_as_name(effective_retry_as(o))) +
         ", \"honour_retry_after\": " + (o.honour_retry_after ? "true" : "false") +
         ", \"drop\": " + num(o.drop) + ", \"cut_delay\": " + std::to_string(o.cut_delay_ms) +
         ", \"delay\": " + std::to_string(o.delay_ms) + ", \"procs\": " + std::to_string(o.procs) +
         ", \"source\": " + quote(o.source) + ", \"conn_idle\": " + std::to_string(o.conn_idle_ms) +
         ", \"drain\": " + std::to_string(o.drain_s) + ", \"max_lag\": " + num(o.max_lag_ms) +
         ", \"max_errors\": " + std::to_string(o.max_errors) + ", \"watch_pid\": " + pids + "}";
}

// Logins the server refused (5xx to the creation or the upgrade), apart from
// errors: retried as the client --retry-as plays would, then in, given up, or
// neither ("unsettled": the run ended while they waited, or another error came first).
std::uint64_t unsettled(const Tally& t) {
  const std::uint64_t settled = t.logins_refused_then_in + t.logins_refused_gave_up;
  return t.logins_refused > settled ? t.logins_refused - settled : 0;
}

std::string refused_json(const Options& o, const Tally& t) {
  return "{\"refusals\": " + std::to_string(t.login_refusals) +
         ", \"logins\": " + std::to_string(t.logins_refused) +
         ", \"then_in\": " + std::to_string(t.logins_refused_then_in) +
         ", \"gave_up\": " + std::to_string(t.logins_refused_gave_up) +
         ", \"unsettled\": " + std::to_string(unsettled(t)) +
         ", \"retry_as\": " + quote(retry_as_name(effective_retry_as(o))) +
         ", \"honour_retry_after\": " + (o.honour_retry_after ? "true" : "false") + "}";
}

double per_session(std::uint64_t loaded, std::uint64_t baseline, std::uint64_t sessions) {
  if (sessions == 0 || loaded < baseline) return 0;
  return static_cast<double>(loaded - baseline) / static_cast<double>(sessions);
}

}  // namespace

Verdict judge_generator(const Options& o, const Final& f, double duration_s) {
  Verdict v;
  const double procs = o.procs > 0 ? o.procs : 1;
  const double cpu_share = duration_s > 0 ? f.cpu_seconds / (duration_s * procs) : 0;
  // One late second can be a page fault storm or a neighbour; two or more, or one
  // very late tick, means the generator could not keep its own schedule.
  v.overloaded =
      f.lagging_intervals >= 2 || f.max_loop_lag_ms > 4 * o.max_lag_ms || cpu_share > 0.9;
  char buf[400];
  if (v.overloaded) {
    std::snprintf(buf, sizeof buf,
                  "generator overloaded: its loop lag reached %.1f ms (%llu second(s) above %.0f "
                  "ms), CPU %.0f%% "
                  "of its %u process(es); latency figures include the generator's own delay: use "
                  "more --procs "
                  "or a lower rate",
                  f.max_loop_lag_ms, static_cast<unsigned long long>(f.lagging_intervals),
                  o.max_lag_ms, cpu_share * 100, o.procs);
  } else {
    std::snprintf(buf, sizeof buf,
                  "generator kept up: loop lag at most %.1f ms, CPU %.0f%% of its %u process(es); "
                  "the figures "
                  "measure the target",
                  f.max_loop_lag_ms, cpu_share * 100, o.procs);
  }
  v.text = buf;
  return v;
}

namespace {

// The generator's own figures and its verdict: what says whether the latencies
// measure the target or the generator.
std::string generator_json(const Options& o, const Final& f, const Verdict& v) {
  return "{\"procs\": " + std::to_string(o.procs) + ", \"source\": " + quote(f.source) +
         ", \"max_loop_lag_ms\": " + num(f.max_loop_lag_ms) +
         ", \"lagging_seconds\": " + std::to_string(f.lagging_intervals) +
         ", \"cpu_seconds\": " + num(f.cpu_seconds) +
         ", \"rss_baseline_bytes\": " + std::to_string(f.rss_baseline) +
         ", \"rss_loaded_bytes\": " + std::to_string(f.rss_loaded) +
         ", \"sessions_measured\": " + std::to_string(f.sessions_loaded) +
         ", \"bytes_per_session\": " +
         num(per_session(f.rss_loaded, f.rss_baseline, f.sessions_loaded)) +
         ", \"fds_per_session\": " +
         num(per_session(f.fds_loaded, f.fds_baseline, f.sessions_loaded)) +
         ", \"overloaded\": " + (v.overloaded ? "true" : "false") +
         ", \"verdict\": " + quote(v.text) + "}";
}

// The --watch-pid processes, named as the collector found them.
std::string watched_json(const Options& o, const Collector& c) {
  std::string j = "[";
  for (std::size_t i = 0; i < o.watch_pids.size(); ++i) {
    const std::string name = i < c.watched_names().size() ? c.watched_names()[i] : "";
    j += std::string(i ? ", " : "") + "{\"pid\": " + std::to_string(o.watch_pids[i]) +
         ", \"name\": " + quote(name) + "}";
  }
  return j + "]";
}

std::string sample_json(const WatchSample& w) {
  return "{\"pid\": " + std::to_string(w.pid) + ", \"alive\": " + (w.alive ? "true" : "false") +
         ", \"rss_bytes\": " + std::to_string(w.rss_bytes) +
         ", \"cpu_seconds\": " + num(w.cpu_seconds) +
         ", \"processes\": " + std::to_string(w.processes) +
         ", \"open_fds\": " + std::to_string(w.open_fds) + "}";
}

// One second of the run: the HTML report's plots are drawn from these.
std::string point_json(const TimelinePoint& p) {
  std::string j = "{\"t\": " + num(p.t) + ", \"sessions\": " + std::to_string(p.sessions) +
                  ", \"logins\": " + std::to_string(p.tally.logins) +
                  ", \"login_refusals\": " + std::to_string(p.tally.login_refusals) +
                  ", \"messages_sent\": " + std::to_string(p.tally.messages_sent) +
                  ", \"messages_received\": " + std::to_string(p.tally.messages_received) +
                  ", \"latency_ms\": {\"p50\": " + ms(p.p50_us) + ", \"p90\": " + ms(p.p90_us) +
                  ", \"p99\": " + ms(p.p99_us) + ", \"max\": " + ms(p.max_us) +
                  "}, \"errors\": " + std::to_string(p.tally.errors) +
                  ", \"errors_by_kind\": " + errors_json(p.tally) +
                  ", \"drops\": " + std::to_string(p.tally.drops) +
                  ", \"loop_lag_ms\": " + num(p.loop_lag_ms) + ", \"watched\": [";
  for (std::size_t i = 0; i < p.watched.size(); ++i)
    j += std::string(i ? ", " : "") + sample_json(p.watched[i]);
  return j + "]}";
}

// The points one to a line, each line opened here and the list closed by the caller.
std::string timeline_json(const Collector& c) {
  std::string j;
  bool first = true;
  for (const TimelinePoint& p : c.timeline()) {
    j += first ? "\n    " : ",\n    ";
    first = false;
    j += point_json(p);
  }
  return j;
}

// What went over the wire (frames or requests, as the transport has them) and the
// errors by kind.
void print_traffic(const Options& o, const Tally& t) {
  if (o.transport == TransportKind::kWebSocket) {
    std::printf(
        "  frames          %llu sent (%llu connections, %llu cut by --drop: %llu messages cut "
        "off)\n",
        static_cast<unsigned long long>(t.requests), static_cast<unsigned long long>(t.connections),
        static_cast<unsigned long long>(t.drops),
        static_cast<unsigned long long>(t.messages_cut_off));
  } else {
    std::printf(
        "  requests        %llu (%llu connections, %llu cut by --drop, %llu resent)\n",
        static_cast<unsigned long long>(t.requests), static_cast<unsigned long long>(t.connections),
        static_cast<unsigned long long>(t.drops), static_cast<unsigned long long>(t.resends));
  }
  std::printf("  errors          %llu", static_cast<unsigned long long>(t.errors));
  for (const auto& [kind, n] : t.errors_by_kind)
    std::printf("  %s %llu", kind.c_str(), static_cast<unsigned long long>(n));
  std::printf("\n");
}

}  // namespace

std::string build_json(const Options& o, const Collector& c, const RunInfo& info) {
  const Final& f = c.totals();
  const Tally& t = f.tally;
  std::string j = "{\n";
  j += "  \"tool\": \"switchboard-soak\",\n  \"version\": " + quote(std::string(kProjectVersion)) +
       ",\n  \"transport\": ";
  j += o.transport == TransportKind::kWebSocket ? "\"websocket\",\n" : "\"bosh\",\n";
  j += "  \"target\": " + quote(o.url) + ",\n";
  j += "  \"options\": " + options_json(o) + ",\n";
  j += "  \"started_at\": " + quote(info.started_at) + ",\n";
  j += "  \"duration_s\": " + num(info.duration_s) + ",\n";
  j += "  \"sessions_target\": " + std::to_string(o.sessions) + ",\n";
  j += "  \"sessions_established\": " + std::to_string(f.sessions_established) + ",\n";
  // SIGINT/SIGTERM ended the run phase before --duration (stop_request.hpp).
  j += std::string("  \"stopped_early\": ") + (stop_requested() ? "true" : "false") + ",\n";
  // SIGUSR1 stopped the login ramp (or SIGTERM did, with the rest).
  j += std::string("  \"ramp_stopped\": ") + (ramp_stopped() ? "true" : "false") + ",\n";
  j += "  \"sessions_ended\": " + std::to_string(t.sessions_ended) + ",\n";
  j += "  \"login_attempts\": " + std::to_string(t.login_attempts) + ",\n";
  j += "  \"refused_logins\": " + refused_json(o, t) + ",\n";
  j += "  \"errors\": " + std::to_string(t.errors) + ",\n";
  j += "  \"errors_by_kind\": " + errors_json(t) + ",\n";
  j += "  \"messages_sent\": " + std::to_string(t.messages_sent) + ",\n";
  j += "  \"messages_received\": " + std::to_string(t.messages_received) + ",\n";
  j += "  \"messages_lost\": " + std::to_string(f.messages_lost) + ",\n";
  j += "  \"messages_duplicated\": " + std::to_string(t.messages_duplicated) + ",\n";
  j += "  \"messages_reordered\": " + std::to_string(t.messages_reordered) + ",\n";
  j += "  \"messages_reordered_by_client\": " + std::to_string(t.messages_reordered_by_client) +
       ",\n";
  j += "  \"messages_cut_off\": " + std::to_string(t.messages_cut_off) + ",\n";
  j += "  \"requests\": " + std::to_string(t.requests) + ",\n";
  j += "  \"connections\": " + std::to_string(t.connections) + ",\n";
  j += "  \"drops\": " + std::to_string(t.drops) + ",\n";
  j += "  \"resends\": " + std::to_string(t.resends) + ",\n";
  j += "  \"latency_ms\": " + latency_json(f.latency) + ",\n";
  j += "  \"login_latency_ms\": " + latency_json(f.login) + ",\n";
  j += "  \"generator\": " + generator_json(o, f, judge_generator(o, f, info.duration_s)) + ",\n";
  j += "  \"watched\": " + watched_json(o, c) + ",\n";
  j += "  \"timeline\": [" + timeline_json(c) + "\n  ]\n}\n";
  return j;
}

void print_summary(const Options& o, const Collector& c, const RunInfo& info) {
  const Final& f = c.totals();
  const Tally& t = f.tally;
  auto line = [](const char* what, const Histogram& h) {
    std::printf(
        "  %-15s p50 %.2f  p90 %.2f  p99 %.2f  p99.9 %.2f  max %.2f ms  (%llu)\n", what,
        static_cast<double>(h.quantile(0.5)) / 1000, static_cast<double>(h.quantile(0.9)) / 1000,
        static_cast<double>(h.quantile(0.99)) / 1000, static_cast<double>(h.quantile(0.999)) / 1000,
        static_cast<double>(h.max()) / 1000, static_cast<unsigned long long>(h.count()));
  };
  std::printf("switchboard-soak: %s, %.1f s%s\n", o.url.c_str(), info.duration_s,
              stop_requested() ? " (stopped early by a signal)"
              : ramp_stopped() ? " (login ramp stopped by SIGUSR1)"
                               : "");
  std::printf("  sessions        %llu/%llu established, %llu ended early\n",
              static_cast<unsigned long long>(f.sessions_established),
              static_cast<unsigned long long>(o.sessions),
              static_cast<unsigned long long>(t.sessions_ended));
  std::printf(
      "  messages        %llu sent, %llu received, %llu lost, %llu duplicated, %llu reordered",
      static_cast<unsigned long long>(t.messages_sent),
      static_cast<unsigned long long>(t.messages_received),
      static_cast<unsigned long long>(f.messages_lost),
      static_cast<unsigned long long>(t.messages_duplicated),
      static_cast<unsigned long long>(t.messages_reordered));
  if (t.messages_reordered_by_client > 0) {
    std::printf(" (and %llu by the client's own answer order)",
                static_cast<unsigned long long>(t.messages_reordered_by_client));
  }
  std::printf("\n");
  line("latency", f.latency);
  line("login latency", f.login);
  if (t.login_refusals > 0) {
    std::printf(
        "  refused logins  %llu refusals to %llu logins: %llu then in, %llu gave up, %llu unsettled"
        " (as %s%s)\n",
        static_cast<unsigned long long>(t.login_refusals),
        static_cast<unsigned long long>(t.logins_refused),
        static_cast<unsigned long long>(t.logins_refused_then_in),
        static_cast<unsigned long long>(t.logins_refused_gave_up),
        static_cast<unsigned long long>(unsettled(t)), retry_as_name(effective_retry_as(o)),
        o.honour_retry_after ? ", honouring Retry-After" : "");
  }
  print_traffic(o, t);
  if (f.sessions_loaded > 0) {
    std::printf("  generator       %.0f bytes and %.2f fds per session (RSS at %llu sessions)\n",
                per_session(f.rss_loaded, f.rss_baseline, f.sessions_loaded),
                per_session(f.fds_loaded, f.fds_baseline, f.sessions_loaded),
                static_cast<unsigned long long>(f.sessions_loaded));
  }
  std::printf("  %s\n", judge_generator(o, f, info.duration_s).text.c_str());
}

int exit_status(const Options& o, const Final& f, std::string& why) {
  const Tally& t = f.tally;
  // After SIGUSR1 or SIGTERM only the sessions started had to log in.
  const std::uint64_t expected = ramp_stopped() ? t.login_attempts : o.sessions;
  if (f.sessions_established < expected) {
    why = "not every session logged in";
  } else if (static_cast<std::int64_t>(t.errors) > o.max_errors) {
    why = "errors above --max-errors";
  } else if (f.messages_lost > 0 || t.messages_duplicated > 0 || t.messages_reordered > 0) {
    why = "messages lost, duplicated or reordered";
  } else {
    return 0;
  }
  return 1;
}

}  // namespace sb::soak
