// The metrics board and its text: per-worker slots summed, a retired worker's
// counters kept (and its sessions counted as lost), the exposition text in the
// Prometheus format with the numbers that were recorded.
#include <doctest/doctest.h>

#include <string>

#include "app/metrics/metrics_board.hpp"
#include "app/metrics/metrics_recorder.hpp"
#include "app/metrics/metrics_text.hpp"

using namespace sb::app;

namespace {
std::unique_ptr<MetricsBoard> make_board(std::uint32_t workers) {
  std::string error;
  auto board = MetricsBoard::create(workers, error);
  REQUIRE_MESSAGE(board != nullptr, error);
  return board;
}

bool has_line(const std::string& text, const std::string& line) {
  return text.find("\n" + line + "\n") != std::string::npos;
}
}  // namespace

TEST_CASE("slots are summed, and a retired worker's counters stay in the sums") {
  auto board = make_board(2);
  MetricsRecorder zero(&board->slot(0));
  MetricsRecorder one(&board->slot(1));
  zero.session_created("w0.abcdefghijklmnopqrstuv", "127.0.0.1", "example.com");
  one.session_created("w1.abcdefghijklmnopqrstuv", "127.0.0.1", "example.com");
  one.session_created("w1.bbcdefghijklmnopqrstuv", "127.0.0.1", "example.com");
  one.session_ended("w1.bbcdefghijklmnopqrstuv", sb::engine::Condition::kNone, "client terminate");
  board->slot(0).set(board->slot(0).sessions, 1);
  board->slot(1).set(board->slot(1).sessions, 1);

  MetricsTotals t = board->totals();
  CHECK(t.counters[metric::kSessionsCreated] == 3);
  CHECK(t.counters[metric::kSessionsEnded] == 1);
  CHECK(t.sessions == 2);

  board->retire(1);  // worker 1 died with one session open
  t = board->totals();
  CHECK(t.counters[metric::kSessionsCreated] == 3);
  CHECK(t.counters[metric::kSessionsEnded] == 1);
  CHECK(t.counters[metric::kSessionsEnded + metric::kWorkerLost] == 1);
  CHECK(t.sessions == 1);
  CHECK(board->slot(1).get(metric::kSessionsCreated) == 0);  // the new worker 1 starts afresh
  MetricsRecorder again(&board->slot(1));
  again.session_created("w1.cbcdefghijklmnopqrstuv", "127.0.0.1", "example.com");
  CHECK(board->totals().counters[metric::kSessionsCreated] == 4);
}

TEST_CASE("a board attached from its descriptor is the same memory") {
  auto board = make_board(3);
  std::string error;
  auto view = MetricsBoard::attach(dup(board->fd()), 3, error);
  REQUIRE(view != nullptr);
  view->slot(2).add(metric::kHandoversSent, 5);
  CHECK(board->totals().counters[metric::kHandoversSent] == 5);
}

TEST_CASE("connect times land in their histogram bucket") {
  CHECK(connect_bucket(0) == 0);
  CHECK(connect_bucket(500) == 0);  // 0.5 ms: le="0.0005"
  CHECK(connect_bucket(501) == 1);
  CHECK(connect_bucket(10'000) == 4);                                      // le="0.01"
  CHECK(connect_bucket(60'000'000) == std::size(metric::kConnectBounds));  // +Inf
}

TEST_CASE("the exposition text carries the recorded numbers under Prometheus names") {
  auto board = make_board(1);
  MetricsRecorder recorder(&board->slot(0));
  recorder.session_created("sid", "127.0.0.1", "example.com");
  recorder.session_ended("sid", sb::engine::Condition::kRemoteConnectionFailed, "upstream");
  recorder.request_received(sb::engine::RequestKind::kCreate, 0);
  recorder.request_received(sb::engine::RequestKind::kPayload, 3);
  recorder.request_refused("127.0.0.1", sb::engine::Refusal::kUnknownSid, "unknown sid");
  recorder.http_response(200);
  recorder.http_response(200);
  recorder.http_response(404);
  recorder.http_connection_opened();
  recorder.http_connection_opened();
  recorder.proxy_header_refused();
  recorder.link_connected(1500);       // 1.5 ms
  recorder.link_connected(2'000'000);  // 2 s
  recorder.link_connect_failed();
  recorder.link_bytes_sent(100);
  recorder.link_bytes_received(250);
  recorder.link_stanza_received();
  board->slot(0).set(board->slot(0).held_requests, 7);
  // What WsSocket counts (as FrontEvents): a session, its messages, and a refused upgrade.
  recorder.ws_session_created();
  for (int i = 0; i < 4; ++i) recorder.ws_message(true);
  for (int i = 0; i < 6; ++i) recorder.ws_message(false);
  board->slot(0).set(board->slot(0).websocket_connections, 1);
  recorder.request_refused("127.0.0.1", sb::engine::Refusal::kWsHandshake, "bad key");
  recorder.http_response(101);

  ProcessTotals process;
  process.cpu_seconds = 1.25;
  process.resident_bytes = 4096;
  process.open_fds = 12;
  process.max_fds = 1024;
  process.start_time_seconds = 1700000000;
  DaemonFigures daemon;
  daemon.workers_configured = 2;
  daemon.workers_running = 2;
  daemon.worker_restarts_exited = 3;
  daemon.worker_restarts_hung = 1;
  const std::string text = "\n" + render_metrics(board->totals(), process, daemon);

  CHECK(has_line(text, "# TYPE switchboard_sessions gauge"));
  CHECK(has_line(text, "switchboard_sessions_created_total 1"));
  CHECK(
      has_line(text, "switchboard_sessions_ended_total{condition=\"remote-connection-failed\"} 1"));
  CHECK(has_line(text, "switchboard_sessions_ended_total{condition=\"none\"} 0"));
  CHECK(has_line(text, "switchboard_requests_total{kind=\"create\"} 1"));
  CHECK(has_line(text, "switchboard_requests_total{kind=\"payload\"} 1"));
  CHECK(has_line(text, "switchboard_refused_requests_total{reason=\"unknown_sid\"} 1"));
  CHECK(has_line(text, "switchboard_held_requests 7"));
  CHECK(has_line(text, "switchboard_websocket_connections 1"));
  CHECK(has_line(text, "switchboard_websocket_sessions_created_total 1"));
  CHECK(has_line(text, "switchboard_websocket_messages_total{direction=\"to_server\"} 4"));
  CHECK(has_line(text, "switchboard_websocket_messages_total{direction=\"from_server\"} 6"));
  CHECK(has_line(text, "switchboard_refused_requests_total{reason=\"websocket_handshake\"} 1"));
  CHECK(has_line(text, "switchboard_refused_requests_total{reason=\"websocket_open\"} 0"));
  CHECK(has_line(text, "switchboard_http_responses_total{code=\"101\"} 1"));
  CHECK(has_line(text, "switchboard_http_responses_total{code=\"200\"} 2"));
  CHECK(has_line(text, "switchboard_http_responses_total{code=\"404\"} 1"));
  CHECK(has_line(text, "switchboard_http_connections_accepted_total 2"));
  CHECK(has_line(text, "switchboard_proxy_headers_refused_total 1"));
  CHECK(text.find("code=\"500\"") == std::string::npos);  // codes never sent are left out
  CHECK(has_line(text, "# TYPE switchboard_upstream_connect_seconds histogram"));
  CHECK(has_line(text, "switchboard_upstream_connect_seconds_bucket{le=\"0.001\"} 0"));
  CHECK(has_line(text, "switchboard_upstream_connect_seconds_bucket{le=\"0.0025\"} 1"));
  CHECK(has_line(text, "switchboard_upstream_connect_seconds_bucket{le=\"2.5\"} 2"));
  CHECK(has_line(text, "switchboard_upstream_connect_seconds_bucket{le=\"+Inf\"} 2"));
  CHECK(has_line(text, "switchboard_upstream_connect_seconds_count 2"));
  CHECK(has_line(text, "switchboard_upstream_connect_seconds_sum 2.0015"));
  CHECK(has_line(text, "switchboard_upstream_connect_failures_total 1"));
  CHECK(has_line(text, "switchboard_stanzas_total{direction=\"to_server\"} 3"));
  CHECK(has_line(text, "switchboard_stanzas_total{direction=\"from_server\"} 1"));
  CHECK(has_line(text, "switchboard_upstream_bytes_total{direction=\"to_server\"} 100"));
  CHECK(has_line(text, "switchboard_upstream_bytes_total{direction=\"from_server\"} 250"));
  CHECK(has_line(text, "switchboard_workers 2"));
  CHECK(has_line(text, "# TYPE switchboard_worker_restarts_total counter"));
  CHECK(has_line(text, "switchboard_worker_restarts_total{reason=\"exited\"} 3"));
  CHECK(has_line(text, "switchboard_worker_restarts_total{reason=\"hung\"} 1"));
  CHECK(has_line(text, "process_cpu_seconds_total 1.25"));
  CHECK(has_line(text, "process_resident_memory_bytes 4096"));
  CHECK(has_line(text, "process_open_fds 12"));
  CHECK(has_line(text, "process_max_fds 1024"));
  CHECK(has_line(text, "process_start_time_seconds 1700000000"));
  CHECK(text.find("switchboard_build_info{version=\"") != std::string::npos);
  // Every sample belongs to a family announced just before, with HELP and TYPE.
  CHECK(text.back() == '\n');
}
