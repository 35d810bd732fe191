// FrontEvents: what the sockets that serve HTTP and WebSocket (HttpSocket,
// WsSocket) report to whoever counts them. The worker's MetricsRecorder
// implements it, as it implements engine::EngineEvents and xmpp::LinkObserver: the
// front knows nothing of metrics, and the metrics room (which serves its own
// /metrics over an HttpSocket) may use the front without a cycle.
//
// Each call is on a hot path (one per connection, response or WebSocket message):
// an implementation does a store or two and returns.
#pragma once

namespace sb::app {

class FrontEvents {
 public:
  // A client connection was accepted or arrived by hand-over.
  virtual void http_connection_opened() = 0;
  // A connection's PROXY protocol header was refused (and the connection closed).
  virtual void proxy_header_refused() = 0;
  // An HTTP response with this status went out (101 for a WebSocket upgrade).
  virtual void http_response(int status) = 0;
  // A WebSocket XMPP session was opened.
  virtual void ws_session_created() = 0;
  // A WebSocket XMPP message went to the server (`to_server`) or to the client.
  virtual void ws_message(bool to_server) = 0;

 protected:
  ~FrontEvents() = default;
};

}  // namespace sb::app
