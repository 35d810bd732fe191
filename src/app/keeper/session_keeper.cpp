// A worker's half of keeping its sessions across its death; see session_keeper.hpp.
#include "app/keeper/session_keeper.hpp"

#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <utility>

#include "app/log/log.hpp"
#include "bosh/session.hpp"
#include "bosh/session_record.hpp"
#include "net/stream_position.hpp"
#include "xmpp/link_record.hpp"
#include "xmpp/upstream_link.hpp"

namespace sb::app {
namespace {
constexpr std::size_t kRoom = 64;  // below KeeperLink::kMaxBytes for the message's head

// What a kept session is rebuilt from, checked; `reason` empty when it can continue.
struct Checked {
  bosh::SessionRecord session;
  xmpp::LinkRecord link;
  std::string reason;
};

Checked check(const KeptEntry& entry, int fd) {
  Checked c;
  std::string error;
  if (!bosh::decode(entry.session, c.session, error) || !xmpp::decode(entry.link, c.link, error)) {
    c.reason = "unreadable";
    SB_LOG_WARN("keeper: session %.8s: %s", entry.sid.c_str(), error.c_str());
    return c;
  }
  net::StreamPosition now;
  if (!net::stream_position(fd, now, error)) {
    c.reason = "connection";
  } else if (now.read != entry.read) {
    c.reason = "unrecorded-read";  // the dead worker read server bytes after its record
  } else if (now.written != entry.written) {
    c.reason = "unrecorded-write";  // or wrote to the server
  }
  return c;
}
}  // namespace

SessionKeeper::SessionKeeper(uv_loop_t* loop, int fd, bosh::SessionTable& sessions)
    : loop_(loop), link_(fd), sessions_(sessions) {
  uv_timer_init(loop_, &retry_);
  retry_.data = this;
  uv_unref(reinterpret_cast<uv_handle_t*>(&retry_));
}

SessionKeeper::~SessionKeeper() { stop(); }

void SessionKeeper::start() {
  watching_ = true;
  sessions_.set_watcher(this);
}

void SessionKeeper::stop() {
  if (!watching_) return;
  watching_ = false;
  sessions_.set_watcher(nullptr);
  for (bosh::Session* s : changed_) s->set_watch_marked(false);
  changed_.clear();
  uv_timer_stop(&retry_);
  if (!uv_is_closing(reinterpret_cast<uv_handle_t*>(&retry_))) {
    uv_close(reinterpret_cast<uv_handle_t*>(&retry_), nullptr);
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

void SessionKeeper::on_retry(uv_timer_t* timer) {
  static_cast<SessionKeeper*>(timer->data)->flush();
}

bool SessionKeeper::send(KeeperMessage& message, std::vector<int>& fds) {
  if (message.kind == KeeperKind::kUpdate && message.entries.empty()) return true;
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

void SessionKeeper::flush() {
  if (!watching_) return;
  std::vector<bosh::Session*> changed;
  changed.swap(changed_);
  for (bosh::Session* s : changed) s->set_watch_marked(false);
  std::vector<std::string> gone;
  gone.swap(gone_);
  if (broken_) return;

  KeeperMessage message;
  message.kind = KeeperKind::kUpdate;
  std::vector<int> fds;
  std::vector<bosh::Session*> in_message;  // each entry's session (null: a drop)
  std::size_t bytes = 0;
  bool full = false;
  bool retry = false;
  // What was not sent goes back to wait for the next try.
  const auto put_back = [&](const KeptEntry& entry, bosh::Session* s) {
    if (s != nullptr) {
      session_changed(*s);
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
        if (in_message[i] != nullptr && message.entries[i].fd) in_message[i]->set_watch_kept(true);
      }
    }
    message.entries.clear();
    fds.clear();
    in_message.clear();
    bytes = 0;
    return !full;
  };
  const auto add = [&](KeptEntry&& entry, bosh::Session* s, int fd) {
    const std::size_t size = encoded_size(entry);
    if (bytes + size > KeeperLink::kMaxBytes - kRoom || fds.size() + 1 > KeeperLink::kMaxFds) {
      send_message();
    }
    if (full) {
      put_back(entry, s);
      return;
    }
    if (fd >= 0) fds.push_back(fd);
    bytes += size;
    message.entries.push_back(std::move(entry));
    in_message.push_back(s);
  };
  const auto drop = [&](std::string sid) {
    KeptEntry entry;
    entry.gone = true;
    entry.sid = std::move(sid);
    add(std::move(entry), nullptr, -1);
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
    if (encoded_size(entry) > KeeperLink::kMaxBytes - kRoom) {
      // Too much waiting for the client to fit one packet: not kept until it shrinks.
      if (s->watch_kept()) {
        s->set_watch_kept(false);
        drop(std::string(s->sid()));
      }
      continue;
    }
    add(std::move(entry), s, entry.fd ? link->socket_fd() : -1);
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
  if ((full || retry) && !uv_is_active(reinterpret_cast<uv_handle_t*>(&retry_))) {
    uv_timer_start(&retry_, &SessionKeeper::on_retry, kRetryMs, 0);
  }
}

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
  std::vector<std::pair<KeptEntry, int>> kept;
  const auto close_all = [&]() {
    for (auto& [entry, fd] : kept) ::close(fd);
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
    if (message.kind == KeeperKind::kRestoreEnd) {
      if (message.nonce == ask.nonce) break;
      continue;  // an answer to an earlier process's asking
    }
    std::size_t next = 0;
    for (KeptEntry& entry : message.entries) {
      if (!entry.fd) continue;
      kept.emplace_back(std::move(entry), fds[next++]);
    }
  }
  context.catch_up();
  start();  // the sessions rebuilt below are sent back with their sockets
  // Sessions already here (an upgrade in place brought them) are kept too.
  for (bosh::Session* s : sessions_.live()) session_changed(*s);
  for (auto& [entry, fd] : kept) {
    ++recovery.kept;
    Checked c = check(entry, fd);
    if (!c.reason.empty()) {
      ++recovery.ended[c.reason];
      ::shutdown(fd, SHUT_RDWR);  // the server ends its side of the stream
      ::close(fd);
      gone_.push_back(entry.sid);
      continue;
    }
    // Its requests' connections died with the worker: each keeps its place.
    for (bosh::SessionRecord::Held& held : c.session.held) {
      held.connected = false;
      held.lost_for_ms = 0;
    }
    c.session.early.clear();
    bosh::Session& session = sessions_.restore(std::move(c.session));
    std::string why;
    std::unique_ptr<xmpp::UpstreamLink> link =
        xmpp::UpstreamLink::adopt(upstreams, session.target(), session, std::move(c.link), fd, why);
    if (!link) {
      SB_LOG_WARN("keeper: session %.8s lost its server link: %s", entry.sid.c_str(), why.c_str());
      session.resume(nullptr, {});
      session.end(bosh::Condition::kRemoteConnectionFailed);
      ++recovery.ended["link"];
      continue;
    }
    session.resume(std::move(link), {});
    ++recovery.continued;
  }
  sessions_.collect();
  recovery.ms = (uv_hrtime() - started) / 1000000;
  return true;
}

}  // namespace sb::app
