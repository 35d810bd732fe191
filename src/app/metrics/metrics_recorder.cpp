// Counting events into the worker's slot; see metrics_recorder.hpp.
#include "app/metrics/metrics_recorder.hpp"

namespace sb::app {

std::size_t connect_bucket(std::uint64_t micros) {
  const double seconds = static_cast<double>(micros) / 1e6;
  std::size_t i = 0;
  while (i < std::size(metric::kConnectBounds) && seconds > metric::kConnectBounds[i]) ++i;
  return i;
}

MetricsRecorder::MetricsRecorder(MetricsSlot* slot)
    : own_(slot == nullptr ? std::make_unique<MetricsSlot>() : nullptr),
      slot_(slot != nullptr ? slot : own_.get()) {}

void MetricsRecorder::session_created(std::string_view sid, std::string_view peer,
                                      std::string_view to) {
  slot_->add(metric::kSessionsCreated);
  log_.session_created(sid, peer, to);
}

void MetricsRecorder::session_ended(std::string_view sid, engine::Condition condition,
                                    std::string_view reason) {
  slot_->add(metric::kSessionsEnded + static_cast<std::size_t>(condition));
  log_.session_ended(sid, condition, reason);
}

void MetricsRecorder::request_refused(std::string_view peer, engine::Refusal refusal,
                                      std::string_view reason) {
  slot_->add(metric::kRefused + static_cast<std::size_t>(refusal));
  log_.request_refused(peer, refusal, reason);
}

void MetricsRecorder::request_received(engine::RequestKind kind, std::size_t stanzas) {
  slot_->add(metric::kRequests + static_cast<std::size_t>(kind));
  if (stanzas > 0) slot_->add(metric::kStanzas + metric::kToServer, stanzas);
}

void MetricsRecorder::link_connected(std::uint64_t micros) {
  slot_->add(metric::kUpstreamConnects);
  slot_->add(metric::kConnectBucket + connect_bucket(micros));
  slot_->add(metric::kConnectMicros, micros);
}

void MetricsRecorder::link_connect_failed() { slot_->add(metric::kUpstreamConnectFailures); }

void MetricsRecorder::creation_waited(std::uint64_t millis, bool started) {
  if (!started) {
    slot_->add(metric::kQueueGaveUp);
    return;
  }
  slot_->add(metric::kQueueBucket + connect_bucket(millis * 1000));
  slot_->add(metric::kQueueMicros, millis * 1000);
}

void MetricsRecorder::link_open_ended(OpenOutcome outcome, std::uint64_t millis) {
  if (outcome == OpenOutcome::kFailed) {
    slot_->add(metric::kLoginOpeningFailures);
  } else if (outcome == OpenOutcome::kOpened) {
    slot_->add(metric::kLoginsOpened);
    slot_->add(metric::kLoginBucket + connect_bucket(millis * 1000));
    slot_->add(metric::kLoginMicros, millis * 1000);
  }
}

void MetricsRecorder::link_bytes_sent(std::size_t bytes) {
  slot_->add(metric::kUpstreamBytes + metric::kToServer, bytes);
}

void MetricsRecorder::link_bytes_received(std::size_t bytes) {
  slot_->add(metric::kUpstreamBytes + metric::kFromServer, bytes);
}

void MetricsRecorder::link_stanza_received() { slot_->add(metric::kStanzas + metric::kFromServer); }

void MetricsRecorder::http_connection_opened() { slot_->add(metric::kHttpConnections); }

void MetricsRecorder::proxy_header_refused() { slot_->add(metric::kProxyHeadersRefused); }

void MetricsRecorder::http_response(int status) {
  if (status >= 100 && status < static_cast<int>(metric::kStatusCodes)) {
    slot_->add(metric::kResponses + static_cast<std::size_t>(status));
  }
}

void MetricsRecorder::ws_session_created() { slot_->add(metric::kWsSessionsCreated); }

void MetricsRecorder::ws_message(bool to_server) {
  slot_->add(metric::kWsMessages + (to_server ? metric::kToServer : metric::kFromServer));
}

}  // namespace sb::app
