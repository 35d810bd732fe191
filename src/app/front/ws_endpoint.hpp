// WsEndpoint: the WebSocket path's http::Handler (websocket_path) and the worker's
// UpgradeTarget: it decides each handshake and, once the 101 is written, turns the
// socket into a WsSocket.
//
// The handshake is judged by ws::decide_handshake with the BOSH endpoint's
// CorsPolicy (a refused Origin is a 403). An acceptable handshake is still refused
// as a BOSH creation would be: HTTP 503 with Retry-After while shutting down, when
// the worker has no room (Admission, its CreationGate) or at its share of
// max_sessions. Unlike a BOSH creation it is not passed to another worker: the
// hand-over re-sends a request as HTTP, and an upgrade must be answered on the
// connection it came on. The per-address cap is judged when the socket switches
// (WsSocket::start): the client's <open/> gets policy-violation.
//
// Its WsShared is the one WsContext of the worker: the same UpstreamFactory as
// BOSH, routing by engine::route_upstream (the domains and default upstream; RFC
// 7395's <open/> has no route attribute, so allowed_routes never applies),
// max_message_bytes = max_stanza_bytes, and the 1 MiB output backlog of HTTP.
// Nothing of it is BOSH's: the routing, the session counts and the events are the
// engine's (WsEngine), which the BOSH endpoint shares.
#pragma once

#include <uv.h>

#include "app/front/http_socket.hpp"
#include "app/front/ws_socket.hpp"
#include "base/timer_wheel.hpp"
#include "engine/creation_gate.hpp"
#include "engine/engine_events.hpp"
#include "engine/login_gate.hpp"
#include "engine/routing.hpp"
#include "engine/session_counts.hpp"
#include "engine/upstream.hpp"
#include "http/cors.hpp"
#include "http/exchange.hpp"

namespace sb::app {

struct WsTimeouts {
  std::uint64_t open_ms = 10000;  // http_header_timeout: the first <open/>
  std::uint64_t ping_interval_ms = 60000;
  std::uint64_t pong_timeout_ms = 30000;
};

// The worker's engine, as the WebSocket endpoint shares it with the BOSH one.
struct WsEngine {
  const engine::RoutingSettings& routing;  // read at each <open/>: reloads change it
  engine::SessionCounts& counts;           // both transports' sessions, for the caps
  engine::EngineEvents* events;            // created / ended / refused, like BOSH's
  base::TimerWheel& timers;
  engine::UpstreamFactory& upstreams;
  std::string id_prefix;  // the worker's sid prefix, in log ids
};

class WsEndpoint final : public http::Handler, public UpgradeTarget {
 public:
  WsEndpoint(uv_loop_t* loop, WsEngine engine, const http::CorsPolicy& cors,
             std::size_t max_message_bytes, WsTimeouts timeouts);
  WsEndpoint(const WsEndpoint&) = delete;
  WsEndpoint& operator=(const WsEndpoint&) = delete;

  // Asked before each accepted handshake; null (the default) = always room.
  void set_creation_gate(engine::CreationGate* gate) { gate_ = gate; }
  void set_login_gate(engine::LoginGate* gate) { login_gate_ = gate; }
  // Where WebSocket sessions and messages are counted (the worker's metrics recorder).
  void set_counted(FrontEvents* events) { shared_.counted = events; }
  // A reload: the message limit and the timeouts for what happens from now on.
  // Each socket reads them from shared_ when it arms a timer or starts a session,
  // so open sockets take the new timeouts at their next wait.
  void update_limits(std::size_t max_message_bytes, const WsTimeouts& timeouts) {
    shared_.max_message_bytes = max_message_bytes;
    shared_.open_timeout_ms = timeouts.open_ms;
    shared_.ping_interval_ms = timeouts.ping_interval_ms;
    shared_.pong_timeout_ms = timeouts.pong_timeout_ms;
  }

  // http::Handler: the handshake.
  void handle(http::Request& request, http::Exchange& exchange) override;
  // UpgradeTarget: the 101 is out, the socket is ours.
  void take_over(net::TcpStream& stream, std::string& first_bytes, std::string_view peer) override;

  // Drain (SIGTERM): refuse handshakes, and every session sends <close/> and 1001.
  void shut_down();
  // End of the drain: close every WebSocket socket still open.
  void close_all();
  std::size_t live() const { return shared_.live; }
  // The sockets' shared state (an upgrade in place adopts sockets into it).
  WsShared& shared() { return shared_; }

 private:
  void refuse(http::Exchange& exchange, const http::Request& request, http::Response response,
              engine::Refusal refusal, std::string_view reason);

  uv_loop_t* loop_;
  const http::CorsPolicy& cors_;
  WsShared shared_;
  engine::CreationGate* gate_ = nullptr;
  engine::LoginGate* login_gate_ = nullptr;
  bool shutting_down_ = false;
};

}  // namespace sb::app
