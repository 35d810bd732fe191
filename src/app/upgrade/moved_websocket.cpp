// A WebSocket session taken up with its sockets; see moved_websocket.hpp.
#include "app/upgrade/moved_websocket.hpp"

#include <optional>
#include <utility>

#include "net/tcp_stream.hpp"
#include "xmpp/upstream_link.hpp"

namespace sb::app {

MovedWebSocket take_up_websocket(uv_loop_t* loop, WsShared& shared, const ws::WsRecord& record,
                                 int fd, xmpp::UpstreamConnector& upstreams,
                                 xmpp::LinkRecord&& link, int& link_fd) {
  MovedWebSocket out;
  net::TcpStream* stream = net::TcpStream::open(loop, fd);
  if (stream == nullptr) {
    out.error = "its socket could not be taken";
    return out;
  }
  out.socket = WsSocket::adopt_moved(*stream, shared, record, out.error);
  if (out.socket == nullptr) return out;
  const std::optional<engine::UpstreamTarget> target = shared.route(record.to);
  std::unique_ptr<xmpp::UpstreamLink> adopted = xmpp::UpstreamLink::adopt(
      upstreams, target ? *target : engine::UpstreamTarget{}, out.socket->upstream_events(),
      std::move(link), std::exchange(link_fd, -1), out.error);
  if (!adopted) {
    out.link_lost = true;
    out.socket->link_lost();
    return out;
  }
  out.socket->resume(std::move(adopted));
  return out;
}

}  // namespace sb::app
