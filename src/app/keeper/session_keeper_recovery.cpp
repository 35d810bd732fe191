// A worker taking up, at its start, the sessions its keeper held for the slot's
// last process; see session_keeper.hpp.
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <optional>
#include <utility>

#include "app/keeper/session_keeper.hpp"
#include "app/log/log.hpp"
#include "app/upgrade/moved_websocket.hpp"
#include "bosh/session.hpp"
#include "bosh/session_record.hpp"
#include "net/stream_position.hpp"
#include "net/tcp_stream.hpp"
#include "ws/ws_record.hpp"
#include "xmpp/link_record.hpp"
#include "xmpp/upstream_link.hpp"

namespace sb::app {

// An entry the keeper gave back, with its sockets (this process's now).
struct SessionKeeper::Kept {
  KeptEntry entry;
  int fd = -1;         // the server link
  int client_fd = -1;  // a WebSocket session's client connection
};

namespace {
// Why a connection cannot continue from a record's position; empty when it can.
// `prefix` names the connection in the reason ("" the server's, "client-").
std::string moved_since(int fd, std::uint64_t read, std::uint64_t written, const char* prefix) {
  net::StreamPosition now;
  std::string error;
  if (!net::stream_position(fd, now, error)) return std::string(prefix) + "connection";
  // The dead worker read or wrote after its last record.
  if (now.read != read) return std::string(prefix) + "unrecorded-read";
  if (now.written != written) return std::string(prefix) + "unrecorded-write";
  return {};
}

// Ends a connection the restarted worker does not take up: the peer sees its end.
void end_connection(int fd) {
  if (fd < 0) return;
  ::shutdown(fd, SHUT_RDWR);
  ::close(fd);
}
}  // namespace

bool SessionKeeper::recover(xmpp::UpstreamConnector& upstreams, net::LoopContext& context,
                            Recovery& recovery, std::string& error) {
  const std::uint64_t started = uv_hrtime();
  KeeperMessage ask;
  ask.kind = KeeperKind::kRecover;
  ask.nonce = static_cast<std::uint64_t>(::getpid());
  for (;;) {
    std::vector<int> none;
    if (send(ask, none)) break;
    if (broken_) {
      error = "the keeper is gone";
      return false;
    }
    pollfd p{link_.fd(), POLLOUT, 0};
    ::poll(&p, 1, 100);
  }
  std::vector<Kept> kept;
  const auto close_all = [&]() {
    for (Kept& k : kept) {
      ::close(k.fd);
      if (k.client_fd >= 0) ::close(k.client_fd);
    }
  };
  for (;;) {
    std::string bytes;
    std::vector<int> fds;
    if (!link_.receive(bytes, fds, kRecoverTimeoutMs, error)) {
      close_all();
      error = "no answer from the keeper: " + error;
      return false;
    }
    KeeperMessage message;
    std::string why;
    if (!decode(bytes, message, why) || message.fds() != fds.size() ||
        message.kind == KeeperKind::kUpdate || message.kind == KeeperKind::kRecover) {
      for (int fd : fds) ::close(fd);
      continue;
    }
    if (message.kind == KeeperKind::kResync) continue;  // a keeper's first words: we ask anyway
    if (message.kind == KeeperKind::kRestoreEnd) {
      if (message.nonce == ask.nonce) break;
      continue;  // an answer to an earlier process's asking
    }
    std::size_t next = 0;
    for (KeptEntry& entry : message.entries) {
      if (entry.gone) {  // a session a crashed daemon had (the journal)
        lost_.add(std::move(entry.sid));
        continue;
      }
      if (!entry.fd) continue;
      Kept k;
      if (entry.websocket) k.client_fd = fds[next++];  // the client's socket comes first
      k.fd = fds[next++];
      k.entry = std::move(entry);
      kept.push_back(std::move(k));
    }
  }
  context.catch_up();
  start();  // the sessions rebuilt below are sent back with their sockets
  // Sessions already here (an upgrade in place brought them) are kept too.
  for (bosh::Session* s : sessions_.live()) session_changed(*s);
  if (websocket_ != nullptr) WsSocket::for_each(loop_, [&](WsSocket& w) { ws_changed(w); });
  for (Kept& k : kept) {
    ++recovery.kept;
    if (k.entry.websocket) {
      take_up_websocket(k, upstreams, recovery);
    } else {
      take_up_bosh(k, upstreams, recovery);
    }
  }
  sessions_.collect();
  recovery.lost = lost_.size();
  recovery.ms = (uv_hrtime() - started) / 1000000;
  return true;
}

void SessionKeeper::take_up_bosh(Kept& k, xmpp::UpstreamConnector& upstreams, Recovery& recovery) {
  const std::string& sid = k.entry.sid;
  bosh::SessionRecord record;
  xmpp::LinkRecord link_record;
  std::string error;
  std::string reason;
  if (!bosh::decode(k.entry.session, record, error) ||
      !xmpp::decode(k.entry.link, link_record, error)) {
    SB_LOG_WARN("keeper: session %.8s: %s", sid.c_str(), error.c_str());
    reason = "unreadable";
  } else {
    reason = moved_since(k.fd, k.entry.read, k.entry.written, "");
  }
  if (!reason.empty()) {
    ++recovery.ended[reason];
    end_connection(std::exchange(k.fd, -1));  // the server ends its side of the stream
    gone_.push_back(sid);
    return;
  }
  // Its requests' connections died with the worker: each keeps its place.
  for (bosh::SessionRecord::Held& held : record.held) {
    held.connected = false;
    held.lost_for_ms = 0;
  }
  record.early.clear();
  bosh::Session& session = sessions_.restore(std::move(record));
  std::unique_ptr<xmpp::UpstreamLink> link = xmpp::UpstreamLink::adopt(
      upstreams, session.target(), session, std::move(link_record), std::exchange(k.fd, -1), error);
  if (!link) {
    SB_LOG_WARN("keeper: session %.8s lost its server link: %s", sid.c_str(), error.c_str());
    session.resume(nullptr, {});
    session.end(bosh::Condition::kRemoteConnectionFailed);
    ++recovery.ended["link"];
    return;
  }
  session.resume(std::move(link), {});
  ++recovery.continued;
}

// A WebSocket session is its client's connection: taken up as an upgrade in
// place takes one up (moved_websocket.hpp), under a new key.
void SessionKeeper::take_up_websocket(Kept& k, xmpp::UpstreamConnector& upstreams,
                                      Recovery& recovery) {
  gone_.push_back(k.entry.sid);  // kept again under this process's key once taken up
  ws::WsRecord record;
  xmpp::LinkRecord link_record;
  std::string error;
  std::string reason;
  if (websocket_ == nullptr) {
    reason = "websocket-off";  // cannot happen: websocket_path is restart-only
  } else if (!ws::decode(k.entry.session, record, error) ||
             !xmpp::decode(k.entry.link, link_record, error)) {
    SB_LOG_WARN("keeper: a WebSocket session: %s", error.c_str());
    reason = "unreadable";
  } else {
    reason = moved_since(k.fd, k.entry.read, k.entry.written, "");
    if (reason.empty()) {
      reason = moved_since(k.client_fd, k.entry.client_read, k.entry.client_written, "client-");
    }
  }
  if (!reason.empty()) {
    ++recovery.ended[reason];
    end_connection(std::exchange(k.fd, -1));
    end_connection(std::exchange(k.client_fd, -1));  // the client reconnects
    return;
  }
  MovedWebSocket taken =
      app::take_up_websocket(loop_, *websocket_, record, std::exchange(k.client_fd, -1), upstreams,
                             std::move(link_record), k.fd);
  if (taken.socket == nullptr) {
    SB_LOG_WARN("keeper: a WebSocket session could not be taken up: %s", taken.error.c_str());
    ++recovery.ended["unreadable"];
    end_connection(std::exchange(k.fd, -1));
    return;
  }
  if (taken.link_lost) {
    SB_LOG_WARN("keeper: a WebSocket session lost its server link: %s", taken.error.c_str());
    ++recovery.ended["link"];
    return;
  }
  ++recovery.continued;
}

}  // namespace sb::app
