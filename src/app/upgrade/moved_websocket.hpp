// take_up_websocket(): a WebSocket session that reached this process with its
// sockets, taken up. Both ways a session reaches a worker whole come here: an
// upgrade in place (upgrade_taker.hpp) and a keeper giving a dead worker's
// sessions to its successor (app/keeper/session_keeper.hpp). A WebSocket
// session is its client's connection: that socket is opened and the session
// rebuilt on it from its record (WsSocket::adopt_moved), then its server link
// on its own socket (UpstreamLink::adopt), the link's events the session's.
#pragma once

#include <uv.h>

#include <string>

#include "app/front/ws_socket.hpp"
#include "ws/ws_record.hpp"
#include "xmpp/link_record.hpp"
#include "xmpp/upstream_connector.hpp"

namespace sb::app {

struct MovedWebSocket {
  // Null when the session could not be taken up (`error` says why): its
  // client socket is closed then, and `link_fd` is still the caller's.
  WsSocket* socket = nullptr;
  // The session was taken up but its server link was not (`error` says why):
  // the session ends as a failed link would (WsSocket::link_lost()).
  bool link_lost = false;
  std::string error;
};

// `fd`: the client's socket, always taken. `link_fd`: the server link's,
// taken (set to -1) once the session is.
MovedWebSocket take_up_websocket(uv_loop_t* loop, WsShared& shared, const ws::WsRecord& record,
                                 int fd, xmpp::UpstreamConnector& upstreams,
                                 xmpp::LinkRecord&& link, int& link_fd);

}  // namespace sb::app
