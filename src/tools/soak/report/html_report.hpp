// The self-contained HTML report of switchboard-soak (`--html FILE`): one file
// that opens offline, with Chart.js (Debian's libjs-chart.js) inlined and the
// JSON report embedded, drawing plots over time of sessions held, logins/s,
// messages/s, latency percentiles, errors by kind, and the RSS and CPU of every
// watched process.
//
// The JSON it reads is the one `--json FILE` writes (docs/soak.md). The fields the
// report uses:
//   { "tool": "switchboard-soak", "version": "...", "target": "URL",
//     "options": { ...every option as given... },
//     "started_at": "ISO-8601 UTC", "duration_s": number,
//     "sessions_target": n, "sessions_established": n, "sessions_ended": n,
//     "errors": n, "errors_by_kind": { "http_503": n, "terminate:policy-violation": n,
//                                      "timeout": n, "transport": n, ... },
//     "messages_sent": n, "messages_received": n, "messages_lost": n,
//     "messages_duplicated": n, "messages_reordered": n,
//     "latency_ms":       { "count": n, "p50": x, "p90": x, "p99": x, "p999": x, "max": x },
//     "login_latency_ms": { same fields },
//     "generator": { "procs": n, "max_loop_lag_ms": x, "overloaded": bool, "verdict": "text" },
//     "watched": [ { "pid": n, "name": "switchboard" } ],
//     "timeline": [ { "t": seconds since start, "sessions": n, "logins": n in this interval,
//                     "messages_sent": n, "messages_received": n (in this interval),
//                     "latency_ms": { "p50": x, "p90": x, "p99": x, "max": x },
//                     "errors_by_kind": { kind: n in this interval },
//                     "loop_lag_ms": x,
//                     "watched": [ { "pid": n, "rss_bytes": n, "cpu_seconds": x,
//                                    "processes": n, "open_fds": n } ] } ] }
#pragma once

#include <string>
#include <string_view>

namespace sb::soak {

// Where Chart.js is looked for: SWITCHBOARD_CHARTJS if set, else Debian's
// /usr/share/javascript/chart.js/chart.min.js (or chart.umd.min.js).
std::string chartjs_path();

// Writes the report to `path`. Returns false and sets `error` when Chart.js cannot
// be read or the file cannot be written.
bool write_html_report(std::string_view report_json, const std::string& path, std::string& error);

}  // namespace sb::soak
