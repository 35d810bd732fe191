// A worker's half of keeping its sessions across its death: watching them and
// sending what changed (session_keeper_recovery.cpp takes them up again); see
// session_keeper.hpp.
#include "app/keeper/session_keeper.hpp"

#include <poll.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <utility>

#include "app/log/log.hpp"
#include "bosh/session.hpp"
#include "bosh/session_record.hpp"
#include "net/stream_position.hpp"
#include "ws/ws_record.hpp"
#include "xmpp/link_record.hpp"
#include "xmpp/upstream_link.hpp"

namespace sb::app {
namespace {
constexpr std::size_t kRoom = 64;  // below KeeperLink::kMaxBytes for the message's head

// Where an entry came from: a BOSH session, a WebSocket session, or neither (a drop).
struct Source {
  bosh::Session* session = nullptr;
  WsSocket* socket = nullptr;
};
}  // namespace

SessionKeeper::SessionKeeper(uv_loop_t* loop, int fd, bosh::SessionTable& sessions,
                             WsShared* websocket)
    : loop_(loop),
      link_(fd),
      sessions_(sessions),
      websocket_(websocket),
      ws_key_prefix_("ws." + std::to_string(::getpid()) + ".") {
  uv_timer_init(loop_, &retry_);
  retry_.data = this;
  uv_unref(reinterpret_cast<uv_handle_t*>(&retry_));
}

SessionKeeper::~SessionKeeper() { stop(); }

void SessionKeeper::start() {
  watching_ = true;
  sessions_.set_watcher(this);
  if (websocket_ != nullptr) websocket_->watcher = this;
  if (uv_poll_init(loop_, &readable_, link_.fd()) == 0) {
    readable_.data = this;
    polling_ = true;
    uv_poll_start(&readable_, UV_READABLE, &SessionKeeper::on_keeper_readable);
    uv_unref(reinterpret_cast<uv_handle_t*>(&readable_));
  }
}

void SessionKeeper::on_keeper_readable(uv_poll_t* poll, int status, int) {
  auto* self = static_cast<SessionKeeper*>(poll->data);
  if (status < 0) return;
  bool resync = false;
  for (;;) {
    std::string bytes;
    std::vector<int> fds;
    std::string error;
    if (!self->link_.receive(bytes, fds, 0, error)) {
      if (error == "closed") uv_poll_stop(poll);
      break;
    }
    for (int fd : fds) ::close(fd);  // nothing the keeper sends now carries any
    KeeperMessage message;
    if (decode(bytes, message, error) && message.kind == KeeperKind::kResync) resync = true;
  }
  if (resync) self->resync();
}

void SessionKeeper::resync() {
  std::size_t sessions = 0;
  for (bosh::Session* s : sessions_.live()) {
    s->set_watch_kept(false);  // its socket goes again
    session_changed(*s);
    ++sessions;
  }
  if (websocket_ != nullptr) {
    WsSocket::for_each(loop_, [&](WsSocket& w) {
      w.set_watch_kept(false);
      ws_changed(w);
      ++sessions;
    });
  }
  // Drops still queued go too: the new keeper may have read, from the
  // socket, a record its predecessor left unread.
  SB_LOG_WARN("keeper: a new keeper asked for every session; sending %zu again", sessions);
  flush();
}

void SessionKeeper::stop() {
  if (!watching_) return;
  watching_ = false;
  sessions_.set_watcher(nullptr);
  if (websocket_ != nullptr) websocket_->watcher = nullptr;
  for (bosh::Session* s : changed_) s->set_watch_marked(false);
  changed_.clear();
  for (WsSocket* w : changed_ws_) w->set_watch_marked(false);
  changed_ws_.clear();
  uv_timer_stop(&retry_);
  if (!uv_is_closing(reinterpret_cast<uv_handle_t*>(&retry_))) {
    uv_close(reinterpret_cast<uv_handle_t*>(&retry_), nullptr);
  }
  // At a worker's end the loop's last sweep (net::close_remaining_handles) has
  // closed both handles already, before this runs from the destructor.
  if (polling_) {
    polling_ = false;
    if (!uv_is_closing(reinterpret_cast<uv_handle_t*>(&readable_))) {
      uv_close(reinterpret_cast<uv_handle_t*>(&readable_), nullptr);
    }
  }
}

void SessionKeeper::session_changed(bosh::Session& session) {
  if (session.watch_marked()) return;
  session.set_watch_marked(true);
  changed_.push_back(&session);
}

// Sessions that left are freed outside the check handle too (an upgrade's move,
// a recovery): each becomes the sid to drop before its memory goes.
void SessionKeeper::sessions_freeing() {
  std::erase_if(changed_, [&](bosh::Session* s) {
    if (s->state() != bosh::Session::State::kEnded) return false;
    s->set_watch_marked(false);
    if (s->watch_kept()) {
      s->set_watch_kept(false);
      gone_.emplace_back(s->sid());
    }
    return true;
  });
}

void SessionKeeper::ws_changed(WsSocket& socket) {
  if (socket.watch_marked()) return;
  socket.set_watch_marked(true);
  changed_ws_.push_back(&socket);
}

// Sockets are freed in the loop's close callbacks, after this turn's flush: a
// drop queued here goes out at the next turn, which the timer makes at once.
// (A session that ends is usually dropped before: see flush().)
void SessionKeeper::ws_freeing(WsSocket& socket) {
  if (socket.watch_marked()) {
    // Named in this turn, most likely lately: looked for from the end.
    auto found = std::find(changed_ws_.rbegin(), changed_ws_.rend(), &socket);
    if (found != changed_ws_.rend()) changed_ws_.erase(std::next(found).base());
  }
  if (!socket.watch_kept()) return;
  gone_.push_back(ws_key(socket));
  if (!uv_is_active(reinterpret_cast<uv_handle_t*>(&retry_))) {
    uv_timer_start(&retry_, &SessionKeeper::on_retry, 0, 0);
  }
}

std::string SessionKeeper::ws_key(const WsSocket& socket) const {
  char address[24];
  std::snprintf(address, sizeof address, "%p", static_cast<const void*>(&socket));
  return ws_key_prefix_ + address;
}

void SessionKeeper::on_retry(uv_timer_t* timer) {
  static_cast<SessionKeeper*>(timer->data)->flush();
}

bool SessionKeeper::send(KeeperMessage& message, std::vector<int>& fds) {
  if (message.kind == KeeperKind::kUpdate && message.entries.empty()) return true;
  if (message.kind == KeeperKind::kUpdate) message.nonce = uv_hrtime() / 1000;  // sent at
  std::string error;
  switch (link_.send(encode(message), fds, error)) {
    case KeeperLink::Sent::kSent: counters_.records += message.entries.size(); return true;
    case KeeperLink::Sent::kFull: ++counters_.full; return false;
    case KeeperLink::Sent::kFailed: break;
  }
  SB_LOG_ERROR("keeper: %s; sessions are no longer kept", error.c_str());
  broken_ = true;
  return false;
}

SessionKeeper::WsEntry SessionKeeper::websocket_entry(WsSocket& socket, KeptEntry& entry,
                                                      int& client_fd, int& link_fd) {
  if (!socket.keepable()) return WsEntry::kNever;  // TLS, closing, or no stream yet
  auto* link = dynamic_cast<xmpp::UpstreamLink*>(socket.live_upstream());
  if (link == nullptr || link->tls_state() != "plain") return WsEntry::kNever;  // dying, or TLS
  if (!socket.movable() || !link->movable()) return WsEntry::kLater;  // opening, or bytes queued
  net::StreamPosition client;
  net::StreamPosition server;
  std::string error;
  if (!net::stream_position(socket.socket_fd(), client, error) ||
      !net::stream_position(link->socket_fd(), server, error)) {
    return WsEntry::kNever;  // a connection is failing: the session ends soon
  }
  entry.websocket = true;
  entry.sid = ws_key(socket);
  entry.session = ws::encode(socket.record());
  entry.link = xmpp::encode(link->record());
  entry.read = server.read;
  entry.written = server.written;
  entry.client_read = client.read;
  entry.client_written = client.written;
  entry.fd = !socket.watch_kept();
  if (entry.fd) {  // the first time: its sockets ride with it
    client_fd = socket.socket_fd();
    link_fd = link->socket_fd();
  }
  return WsEntry::kEntry;
}

bool SessionKeeper::flush_all(int timeout_ms) {
  const std::uint64_t deadline = uv_hrtime() / 1000000 + static_cast<std::uint64_t>(timeout_ms);
  for (;;) {
    flush();
    if (changed_.empty() && changed_ws_.empty() && gone_.empty()) return true;
    if (broken_ || !watching_) return false;
    const std::uint64_t now = uv_hrtime() / 1000000;
    if (now >= deadline) return false;
    pollfd p{link_.fd(), POLLOUT, 0};
    ::poll(&p, 1, static_cast<int>(std::min<std::uint64_t>(deadline - now, 100)));
  }
}

void SessionKeeper::flush() {
  if (!watching_) return;
  std::vector<bosh::Session*> changed;
  changed.swap(changed_);
  for (bosh::Session* s : changed) s->set_watch_marked(false);
  std::vector<WsSocket*> changed_ws;
  changed_ws.swap(changed_ws_);
  for (WsSocket* w : changed_ws) w->set_watch_marked(false);
  std::vector<std::string> gone;
  gone.swap(gone_);
  if (broken_) return;

  KeeperMessage message;
  message.kind = KeeperKind::kUpdate;
  std::vector<int> fds;
  std::vector<Source> in_message;  // each entry's session
  std::size_t bytes = 0;
  bool full = false;
  bool retry = false;
  // What was not sent goes back to wait for the next try.
  const auto put_back = [&](const KeptEntry& entry, Source source) {
    if (source.session != nullptr) {
      session_changed(*source.session);
    } else if (source.socket != nullptr) {
      ws_changed(*source.socket);
    } else {
      gone_.push_back(entry.sid);
    }
  };
  const auto send_message = [&]() {
    if (full) return false;
    if (!send(message, fds)) {
      full = true;
      for (std::size_t i = 0; i < message.entries.size(); ++i)
        put_back(message.entries[i], in_message[i]);
    } else {
      for (std::size_t i = 0; i < message.entries.size(); ++i) {
        if (!message.entries[i].fd) continue;
        if (in_message[i].session != nullptr) in_message[i].session->set_watch_kept(true);
        if (in_message[i].socket != nullptr) in_message[i].socket->set_watch_kept(true);
      }
    }
    message.entries.clear();
    fds.clear();
    in_message.clear();
    bytes = 0;
    return !full;
  };
  // `fd` and `client_fd`: the sockets that ride with the entry (-1: none).
  const auto add = [&](KeptEntry&& entry, Source source, int fd, int client_fd) {
    const std::size_t size = encoded_size(entry);
    if (bytes + size > KeeperLink::kMaxBytes - kRoom || fds.size() + 2 > KeeperLink::kMaxFds) {
      send_message();
    }
    if (full) {
      put_back(entry, source);
      return;
    }
    if (client_fd >= 0) fds.push_back(client_fd);
    if (fd >= 0) fds.push_back(fd);
    bytes += size;
    message.entries.push_back(std::move(entry));
    in_message.push_back(source);
  };
  const auto drop = [&](std::string sid) {
    KeptEntry entry;
    entry.gone = true;
    entry.sid = std::move(sid);
    add(std::move(entry), Source{}, -1, -1);
  };
  // Too much waiting for the client to fit one packet: not kept until it shrinks.
  const auto too_big = [&](const KeptEntry& entry) {
    return encoded_size(entry) > KeeperLink::kMaxBytes - kRoom;
  };

  for (std::string& sid : gone) drop(std::move(sid));
  for (bosh::Session* s : changed) {
    if (full) {
      session_changed(*s);
      continue;
    }
    if (s->state() == bosh::Session::State::kEnded) {  // ended, or moved to another process
      if (s->watch_kept()) {
        s->set_watch_kept(false);
        drop(std::string(s->sid()));
      }
      continue;
    }
    auto* link = dynamic_cast<xmpp::UpstreamLink*>(s->live_upstream());
    if (link == nullptr || link->tls_state() != "plain") continue;  // none yet, dying, or TLS
    if (!link->movable()) {  // opening, or bytes queued for the server: later
      retry = true;
      continue;
    }
    net::StreamPosition position;
    std::string error;
    if (!net::stream_position(link->socket_fd(), position, error)) continue;  // it is failing
    KeptEntry entry;
    entry.sid = std::string(s->sid());
    entry.session = bosh::encode(s->record());
    entry.link = xmpp::encode(link->record());
    entry.read = position.read;
    entry.written = position.written;
    entry.fd = !s->watch_kept();
    if (too_big(entry)) {
      if (s->watch_kept()) {
        s->set_watch_kept(false);
        drop(std::string(s->sid()));
      }
      continue;
    }
    const int fd = entry.fd ? link->socket_fd() : -1;
    add(std::move(entry), Source{s, nullptr}, fd, -1);
  }
  std::vector<WsSocket*> later_ws;
  for (WsSocket* w : changed_ws) {
    if (full) {
      ws_changed(*w);
      continue;
    }
    KeptEntry entry;
    int client_fd = -1;
    int link_fd = -1;
    const WsEntry made = websocket_entry(*w, entry, client_fd, link_fd);
    if (made == WsEntry::kLater) {
      later_ws.push_back(w);  // one kept before stays as it was meanwhile
      continue;
    }
    if (made == WsEntry::kNever || too_big(entry)) {
      // Closing (or failing): the keeper lets its sockets go now, so that a
      // close of ours reaches the peers at once, not when the keeper's copy goes.
      if (w->watch_kept()) {
        w->set_watch_kept(false);
        drop(ws_key(*w));
      }
      continue;
    }
    add(std::move(entry), Source{nullptr, w}, link_fd, client_fd);
  }
  send_message();
  // Sessions that could not be kept yet come back on the next turn; a quiet loop
  // has none, so a timer makes one.
  if (retry) {
    for (bosh::Session* s : changed) {
      auto* link = dynamic_cast<xmpp::UpstreamLink*>(s->live_upstream());
      if (s->state() != bosh::Session::State::kEnded && link != nullptr &&
          link->tls_state() == "plain" && !link->movable()) {
        session_changed(*s);
      }
    }
  }
  for (WsSocket* w : later_ws) ws_changed(*w);
  if ((full || retry || !later_ws.empty()) &&
      !uv_is_active(reinterpret_cast<uv_handle_t*>(&retry_))) {
    uv_timer_start(&retry_, &SessionKeeper::on_retry, kRetryMs, 0);
  }
}

}  // namespace sb::app
