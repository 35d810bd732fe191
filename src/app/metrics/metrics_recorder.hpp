// MetricsRecorder: a worker's counting of what happens, into its MetricsSlot
// (metrics_board.hpp). It is the engine's EngineEvents (and passes every event on
// to the EngineLog, so the log is unchanged), the upstream links' LinkObserver and
// the HTTP and WebSocket sockets' FrontEvents; the hand-over bumps the slot
// directly through slot().
//
// Every call is one or two relaxed stores into this worker's own slot. Gauges
// (sessions, held requests, links, connections, descriptors) are not tracked
// event by event but sampled by the worker once a second (Worker::sample_metrics).
//
// A worker without a shared board (metrics_listen unset) still records, into a
// slot of its own that nobody reads: the hot paths stay free of "is anyone
// counting?" tests, and the cost is the same few stores.
#pragma once

#include <memory>

#include "app/front/front_events.hpp"
#include "app/log/engine_log.hpp"
#include "app/metrics/metrics_board.hpp"
#include "xmpp/link_observer.hpp"

namespace sb::app {

class MetricsRecorder final : public engine::EngineEvents,
                              public xmpp::LinkObserver,
                              public FrontEvents {
 public:
  // `slot` null: a private slot (nobody scrapes this worker).
  explicit MetricsRecorder(MetricsSlot* slot);
  MetricsSlot& slot() { return *slot_; }
  // From now on count into a private slot: the daemon that took this one's
  // sessions over (an upgrade in place) writes the board's slot now.
  void leave_board() {
    own_ = std::make_unique<MetricsSlot>();
    slot_ = own_.get();
  }

  // engine::EngineEvents
  void session_created(std::string_view sid, std::string_view peer, std::string_view to) override;
  void session_ended(std::string_view sid, engine::Condition condition,
                     std::string_view reason) override;
  void request_refused(std::string_view peer, engine::Refusal refusal,
                       std::string_view reason) override;
  void request_received(engine::RequestKind kind, std::size_t stanzas) override;
  void creation_waited(std::uint64_t millis, bool started) override;
  // xmpp::LinkObserver
  void link_connected(std::uint64_t micros) override;
  void link_connect_failed() override;
  void link_bytes_sent(std::size_t bytes) override;
  void link_bytes_received(std::size_t bytes) override;
  void link_stanza_received() override;
  void link_open_ended(OpenOutcome outcome, std::uint64_t millis) override;

  // FrontEvents
  void http_connection_opened() override;
  void proxy_header_refused() override;
  void http_response(int status) override;
  void ws_session_created() override;
  void ws_message(bool to_server) override;

 private:
  std::unique_ptr<MetricsSlot> own_;  // when there is no board
  MetricsSlot* slot_;
  EngineLog log_;
};

// The index of the connect-time bucket for `micros` (metric::kConnectBounds).
std::size_t connect_bucket(std::uint64_t micros);

}  // namespace sb::app
