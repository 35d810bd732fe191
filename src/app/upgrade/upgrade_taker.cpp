// The new daemon's half of an upgrade in place; see upgrade_taker.hpp.
#include "app/upgrade/upgrade_taker.hpp"

#include <unistd.h>

#include <cstdio>
#include <cstdlib>

#include "app/log/log.hpp"
#include "app/upgrade/moved_websocket.hpp"
#include "bosh/session.hpp"
#include "bosh/session_record.hpp"
#include "http/connection_record.hpp"
#include "net/tcp_stream.hpp"
#include "ws/ws_record.hpp"
#include "xmpp/link_record.hpp"
#include "xmpp/upstream_link.hpp"

namespace sb::app {

// One item read and checked, with its descriptors, until the commit.
struct UpgradeTaker::Taken {
  MovingItem::Type type = MovingItem::Type::kSession;
  bosh::SessionRecord session;
  bool has_link = false;
  xmpp::LinkRecord link;
  int link_fd = -1;
  std::vector<http::ConnectionRecord> connections;
  std::vector<int> connection_fds;
  ws::WsRecord websocket;
  int websocket_fd = -1;
  ~Taken() {
    if (link_fd >= 0) ::close(link_fd);
    if (websocket_fd >= 0) ::close(websocket_fd);
    for (int fd : connection_fds)
      if (fd >= 0) ::close(fd);
  }
  Taken() = default;
  Taken(Taken&& other) noexcept
      : type(other.type),
        session(std::move(other.session)),
        has_link(other.has_link),
        link(std::move(other.link)),
        link_fd(std::exchange(other.link_fd, -1)),
        connections(std::move(other.connections)),
        connection_fds(std::move(other.connection_fds)),
        websocket(std::move(other.websocket)),
        websocket_fd(std::exchange(other.websocket_fd, -1)) {
    other.connection_fds.clear();
  }
};

std::unique_ptr<UpgradeTaker> UpgradeTaker::from_environment(std::string& error) {
  const char* value = std::getenv(kUpgradeFdEnv);
  if (value == nullptr) return nullptr;
  char* end = nullptr;
  const long fd = std::strtol(value, &end, 10);
  ::unsetenv(kUpgradeFdEnv);
  if (end == value || *end != '\0' || fd < 3 || fd > 1000000) {
    error = std::string("malformed ") + kUpgradeFdEnv;
    return nullptr;
  }
  return std::make_unique<UpgradeTaker>(static_cast<int>(fd));
}

bool UpgradeTaker::receive_start(std::string& error) {
  UpgradeChannel::Message message;
  if (!channel_.receive(message, kStartTimeoutMs, error)) return false;
  if (message.kind != static_cast<std::uint8_t>(UpgradeKind::kStart) ||
      !decode(message.bytes, start_, error) || start_.sockets.size() != message.fds.size()) {
    for (int fd : message.fds) ::close(fd);
    if (error.empty()) error = "the old daemon's first message is not the sockets";
    return false;
  }
  start_fds_ = std::move(message.fds);
  return true;
}

int UpgradeTaker::take_socket(const std::string& role, const std::string& address) {
  for (std::size_t i = 0; i < start_.sockets.size(); ++i) {
    if (start_.sockets[i].role != role || start_fds_[i] < 0) continue;
    const int fd = start_fds_[i];
    start_fds_[i] = -1;
    if (start_.sockets[i].address == address) return fd;
    ::close(fd);  // it moved elsewhere: the old daemon's copy closes when it ends
    return -1;
  }
  return -1;
}

std::size_t UpgradeTaker::count(const std::string& role) const {
  std::size_t n = 0;
  for (const StartMessage::Socket& socket : start_.sockets)
    if (socket.role == role) ++n;
  return n;
}

void UpgradeTaker::refuse(const std::string& why) {
  std::string ignored;
  channel_.send(static_cast<std::uint8_t>(UpgradeKind::kRefused), why, {}, 1000, ignored);
}

bool UpgradeTaker::take_over(const Parts& parts, std::string& error) {
  for (int& fd : start_fds_) {  // sockets not taken (a role this daemon has not)
    if (fd >= 0) ::close(fd);
    fd = -1;
  }
  if (!channel_.send(static_cast<std::uint8_t>(UpgradeKind::kReady), {}, {}, 5000, error)) {
    return false;
  }
  std::vector<Taken> taken;
  if (!read_records(taken, error)) {
    refuse(error);
    return false;
  }
  if (!channel_.send(static_cast<std::uint8_t>(UpgradeKind::kTaken), {}, {}, 5000, error)) {
    return false;
  }
  UpgradeChannel::Message word;
  std::string why;
  if (!channel_.receive(word, kCommitTimeoutMs, why)) {
    if (why != "closed") {
      error = "no commit from the old daemon: " + why;
      return false;
    }
    SB_LOG_WARN("upgrade: the old daemon went away after sending its sessions; taking them");
  } else if (word.kind == static_cast<std::uint8_t>(UpgradeKind::kAbort)) {
    error = "the old daemon kept its sessions: " + word.bytes;
    return false;
  } else if (word.kind != static_cast<std::uint8_t>(UpgradeKind::kCommit)) {
    error = "the old daemon said something unexpected instead of commit";
    return false;
  }
  adopt(parts, taken);
  return true;
}

// Every batch until kEnd, each record checked now (a refusal must come before
// the old daemon lets anything go).
bool UpgradeTaker::read_records(std::vector<Taken>& taken, std::string& error) {
  for (;;) {
    UpgradeChannel::Message message;
    if (!channel_.receive(message, kRecordsTimeoutMs, error)) return false;
    if (message.kind == static_cast<std::uint8_t>(UpgradeKind::kEnd)) {
      return decode(message.bytes, account_, error);
    }
    if (message.kind == static_cast<std::uint8_t>(UpgradeKind::kAbort)) {
      error = "the old daemon kept its sessions: " + message.bytes;
      for (int fd : message.fds) ::close(fd);
      return false;
    }
    std::vector<MovingItem> batch;
    std::size_t next_fd = 0;
    bool ok = message.kind == static_cast<std::uint8_t>(UpgradeKind::kBatch) &&
              decode(message.bytes, batch, error);
    std::size_t needed = 0;
    for (const MovingItem& item : batch) needed += item.fds();
    if (ok && needed != message.fds.size()) {
      error = "a batch came with the wrong number of sockets";
      ok = false;
    }
    for (MovingItem& item : batch) {
      if (!ok) break;
      Taken t;
      t.type = item.type;
      if (item.type == MovingItem::Type::kSession || item.type == MovingItem::Type::kWebSocket) {
        ok = item.type == MovingItem::Type::kSession ? bosh::decode(item.session, t.session, error)
                                                     : ws::decode(item.session, t.websocket, error);
        if (ok && !item.link.empty()) {
          t.has_link = true;
          ok = xmpp::decode(item.link, t.link, error);
          t.link_fd = std::exchange(message.fds[next_fd++], -1);
        }
      }
      for (const std::string& bytes : item.connections) {
        if (!ok) break;
        http::ConnectionRecord record;
        ok = http::decode(bytes, record, error);
        t.connections.push_back(std::move(record));
        t.connection_fds.push_back(std::exchange(message.fds[next_fd++], -1));
      }
      if (ok && t.type == MovingItem::Type::kWebSocket) {
        t.websocket_fd = std::exchange(message.fds[next_fd++], -1);
        if (!t.has_link) {
          error = "a WebSocket session came without its server link";
          ok = false;
        }
      }
      if (ok && t.type == MovingItem::Type::kSession) {
        std::size_t requests = 0;
        for (const http::ConnectionRecord& c : t.connections) requests += c.in_flight.size();
        if (requests != t.session.connections()) {
          error = "a session's record and its connections disagree";
          ok = false;
        }
      }
      taken.push_back(std::move(t));
    }
    for (int fd : message.fds)
      if (fd >= 0) ::close(fd);
    if (!ok) return false;
  }
}

void UpgradeTaker::adopt(const Parts& parts, std::vector<Taken>& taken) {
  if (parts.context != nullptr) parts.context->catch_up();
  std::uint64_t& lost_links = links_lost_;
  for (Taken& t : taken) {
    std::vector<http::Exchange*> exchanges;
    for (std::size_t i = 0; i < t.connections.size(); ++i) {
      net::TcpStream* stream =
          net::TcpStream::open(parts.loop, std::exchange(t.connection_fds[i], -1));
      if (stream == nullptr) {
        // Its requests are lost: their sessions hold their place for a resend.
        for (std::size_t n = 0; n < t.connections[i].in_flight.size(); ++n)
          exchanges.push_back(nullptr);
        continue;
      }
      HttpSocket::adopt_moved(*stream, parts.shared, t.connections[i], parts.cors, exchanges);
    }
    if (t.type == MovingItem::Type::kWebSocket) {
      adopt_websocket(parts, t);
      continue;
    }
    if (t.type != MovingItem::Type::kSession) continue;
    bosh::Session& session = parts.sessions.restore(std::move(t.session));
    std::unique_ptr<xmpp::UpstreamLink> link;
    bool link_failed = false;
    if (t.has_link) {
      std::string why;
      link = xmpp::UpstreamLink::adopt(parts.upstreams, session.target(), session,
                                       std::move(t.link), std::exchange(t.link_fd, -1), why);
      if (!link) {
        SB_LOG_WARN("upgrade: session %.8s lost its server link: %s", session.sid().data(),
                    why.c_str());
        link_failed = true;
        ++lost_links;
      }
    }
    session.resume(std::move(link), exchanges);
    if (link_failed) session.end(bosh::Condition::kRemoteConnectionFailed);
    ++sessions_taken_;
  }
  parts.sessions.collect();
  tally_.moved = sessions_taken_ - lost_links;
  tally_.started_ns = account_.started_ns;
  for (const auto& [reason, count] : account_.ended) tally_.ended[reason] += count;
  if (lost_links > 0) tally_.ended["link"] += lost_links;
  summary_ = tally_.summary(monotonic_ns());
}

bool UpgradeTaker::take_forward(const Parts& parts) {
  UpgradeChannel::Message message;
  std::string error;
  if (!channel_.receive(message, 1000, error)) return false;
  ForwardMessage forward;
  http::ConnectionRecord idle;
  if (message.kind != static_cast<std::uint8_t>(UpgradeKind::kForward) || message.fds.size() != 1 ||
      !decode(message.bytes, forward, error) ||
      (!forward.connection.empty() && !http::decode(forward.connection, idle, error))) {
    for (int fd : message.fds) ::close(fd);
    SB_LOG_WARN("upgrade: the old daemon passed on something unreadable (%s); closed",
                error.c_str());
    return true;
  }
  // The socket's options (TCP_NODELAY among them) came with it.
  net::TcpStream* stream = net::TcpStream::open(parts.loop, message.fds[0]);
  if (stream == nullptr) return true;
  if (!forward.connection.empty()) {  // idle: the client's next request comes here
    std::vector<http::Exchange*> none;
    HttpSocket::adopt_moved(*stream, parts.shared, idle, parts.cors, none);
    return true;
  }
  SB_LOG_DEBUG("upgrade: a connection taken from the old daemon with its request");
  HttpSocket::adopt(*stream, parts.shared, forward.request, forward.peer, forward.tls_relayed);
  return true;
}

// A WebSocket session: its socket, then its server link (moved_websocket.hpp).
void UpgradeTaker::adopt_websocket(const Parts& parts, Taken& t) {
  ++sessions_taken_;
  if (parts.websocket == nullptr) {
    ::close(std::exchange(t.websocket_fd, -1));  // a duplicate: closing it says nothing
    SB_LOG_WARN("upgrade: a WebSocket session could not be taken up: %s",
                "websocket_path is off in the new configuration");
    ++links_lost_;  // counted with the sessions whose link was lost: it ended
    return;
  }
  MovedWebSocket taken = take_up_websocket(parts.loop, *parts.websocket, t.websocket,
                                           std::exchange(t.websocket_fd, -1), parts.upstreams,
                                           std::move(t.link), t.link_fd);
  if (taken.socket == nullptr) {
    SB_LOG_WARN("upgrade: a WebSocket session could not be taken up: %s", taken.error.c_str());
    ++links_lost_;  // counted with the sessions whose link was lost: it ended
  } else if (taken.link_lost) {
    SB_LOG_WARN("upgrade: a WebSocket session lost its server link: %s", taken.error.c_str());
    ++links_lost_;
  }
}

}  // namespace sb::app
