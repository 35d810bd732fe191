// The WebSocket handshake and the switch to WsSocket; see ws_endpoint.hpp.
#include "app/front/ws_endpoint.hpp"

#include "base/check.hpp"
#include "engine/routing.hpp"
#include "ws/handshake.hpp"

namespace sb::app {

WsEndpoint::WsEndpoint(uv_loop_t* loop, WsEngine engine, const http::CorsPolicy& cors,
                       std::size_t max_message_bytes, WsTimeouts timeouts)
    : loop_(loop),
      cors_(cors),
      shared_{ws::WsContext{engine.upstreams,
                            [&routing = engine.routing](
                                std::string_view to) -> std::optional<engine::UpstreamTarget> {
                              auto address = engine::route_upstream(routing, to, nullptr);
                              if (!address) return std::nullopt;
                              engine::UpstreamTarget target;
                              target.host = address->host;
                              target.port = address->port;
                              target.to = std::string(to);
                              return target;
                            },
                            max_message_bytes, std::size_t{1} << 20},
              engine.counts,
              engine.events,
              engine.timers,
              std::move(engine.id_prefix),
              timeouts.open_ms,
              timeouts.ping_interval_ms,
              timeouts.pong_timeout_ms} {}

void WsEndpoint::handle(http::Request& request, http::Exchange& exchange) {
  SB_CHECK(request.head != nullptr, "the parser keeps the request head for the WebSocket path");
  if (request.head == nullptr) {  // refused, if it ever were
    refuse(exchange, request,
           http::Response::text(500, "text/plain; charset=utf-8", "no request head\n"),
           engine::Refusal::kWsHandshake, "websocket request without head");
    return;
  }
  ws::HandshakeDecision decision = ws::decide_handshake(*request.head, cors_);
  if (!decision.accepted) {
    refuse(exchange, request, std::move(decision.refusal), engine::Refusal::kWsHandshake,
           decision.reason);
    return;
  }
  const bool no_room = gate_ != nullptr && !gate_->admits_new_session();
  if (shutting_down_ || no_room || shared_.counts.full()) {
    http::Response busy = http::Response::unavailable(
        shutting_down_ ? "shutting down, retry later\n" : "too many sessions, retry later\n", 1);
    busy.close = true;
    const engine::Refusal refusal = shutting_down_ ? engine::Refusal::kShuttingDown
                                    : no_room      ? engine::Refusal::kNoRoom
                                                   : engine::Refusal::kMaxSessions;
    refuse(exchange, request, std::move(busy), refusal,
           shutting_down_ ? "WebSocket while shutting down"
                          : (no_room ? "no room for new sessions" : "max_sessions reached"));
    return;
  }
  if (login_gate_ != nullptr) {
    // An upgrade is not held back: the browser's WebSocket handshake has a short
    // patience of its own, and Converse.js retries a refused one at once.
    const engine::LoginGate::Decision paced = login_gate_->decide(0, false);
    if (paced.verdict != engine::LoginGate::Verdict::kAdmit) {
      http::Response busy =
          http::Response::unavailable("overloaded, retry later\n", paced.retry_after_s);
      busy.close = true;
      refuse(exchange, request, std::move(busy), engine::Refusal::kOverload,
             "overload: logins beyond what this worker can finish in time");
      return;
    }
  }
  exchange.switch_protocols(std::move(decision.response_head));
}

void WsEndpoint::refuse(http::Exchange& exchange, const http::Request& request,
                        http::Response response, engine::Refusal refusal, std::string_view reason) {
  if (shared_.events != nullptr) shared_.events->request_refused(request.peer, refusal, reason);
  exchange.send(std::move(response));
}

void WsEndpoint::take_over(net::TcpStream& stream, std::string& first_bytes,
                           std::string_view peer) {
  WsSocket::start(stream, shared_, first_bytes, peer);
}

void WsEndpoint::shut_down() {
  shutting_down_ = true;
  WsSocket::for_each(loop_, [](WsSocket& socket) { socket.shut_down(); });
}

void WsEndpoint::close_all() {
  WsSocket::for_each(loop_, [](WsSocket& socket) { socket.close_now(); });
}

}  // namespace sb::app
