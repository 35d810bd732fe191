// The running daemon's half of an upgrade in place; see upgrade_giver.hpp.
#include "app/upgrade/upgrade_giver.hpp"

#include <unistd.h>

#include <algorithm>
#include <cstring>
#include <unordered_map>
#include <unordered_set>

#include "app/log/log.hpp"
#include "app/upgrade/successor.hpp"
#include "app/upgrade/upgrade_tally.hpp"
#include "bosh/session.hpp"
#include "ws/ws_record.hpp"
#include "xmpp/upstream_link.hpp"

namespace sb::app {
namespace {
constexpr std::size_t kBatchBytes = 1u << 20;

// Which socket each request in flight is on.
std::unordered_map<const http::Exchange*, HttpSocket*> sockets_by_exchange(
    const HttpSocketList& sockets) {
  std::unordered_map<const http::Exchange*, HttpSocket*> socket_of;
  for (HttpSocket* s = sockets.first(); s != nullptr; s = s->next) {
    for (http::Exchange* e : s->waiting_exchanges()) socket_of.emplace(e, s);
  }
  return socket_of;
}

// A server link with TLS: OpenSSL keeps its state in this process, so it never moves.
bool keeps_tls(const xmpp::UpstreamLink* link) {
  return link != nullptr && link->tls_state() != "plain";
}
}  // namespace

// What moves, decided at the quiet moment, with the descriptors to send.
struct UpgradeGiver::Plan {
  struct Moving {
    bosh::Session* session = nullptr;  // null: an idle connection or a WebSocket
    WsSocket* websocket = nullptr;     // a WebSocket session
    std::vector<HttpSocket*> sockets;  // the connections it takes
    MovingItem item;
    // The sockets' own descriptors, in the item's order: SCM_RIGHTS gives the
    // new daemon its own, so no duplicate is made here (a full worker has no
    // room for one per socket).
    std::vector<int> fds;
  };
  std::vector<Moving> moving;
  std::uint64_t busy = 0;     // BOSH sessions not movable at the last try
  std::uint64_t busy_ws = 0;  // WebSocket sessions likewise
  std::uint64_t tls = 0;      // sessions with TLS that cannot move: they end
  // Client connections that stay here (neither a moving session's nor idle), by why.
  ReasonCounts staying;
};

UpgradeGiver::UpgradeGiver(UpgradeSource source, DoneFn done)
    : source_(std::move(source)), done_(std::move(done)) {}

UpgradeGiver::~UpgradeGiver() = default;

bool UpgradeGiver::start(const std::string& exe, const std::vector<std::string>& args,
                         std::string& error) {
  started_ns_ = monotonic_ns();
  int pair[2];
  if (!make_channel_pair(pair, error)) return false;
  channel_ = std::make_unique<UpgradeChannel>(pair[0]);
  spawned_ = true;
  const int rc =
      spawn_successor(source_.loop, &process_, exe, args, pair[1], &UpgradeGiver::on_exit);
  ::close(pair[1]);
  if (rc != 0) {
    // libuv wants the handle closed even when the spawn failed.
    process_.data = this;
    ++open_handles_;
    uv_close(reinterpret_cast<uv_handle_t*>(&process_), &UpgradeGiver::on_handle_closed);
    finished_ = true;
    channel_.reset();
    error = "cannot run " + exe + ": " + uv_strerror(rc);
    return false;
  }
  process_.data = this;
  process_running_ = true;
  ++open_handles_;
  child_pid_ = process_.pid;
  SB_LOG_INFO("upgrade: started %s (pid %d) beside this process", exe.c_str(), child_pid_);
  wait_for_ready();
  return true;
}

void UpgradeGiver::start_supervised(int channel_fd, std::unique_ptr<UpgradeChannel> gate) {
  started_ns_ = monotonic_ns();
  channel_ = std::make_unique<UpgradeChannel>(channel_fd);
  gate_ = std::move(gate);
  uv_poll_init(source_.loop, &gate_poll_, gate_->fd());
  gate_poll_.data = this;
  ++open_handles_;
  uv_poll_start(&gate_poll_, UV_READABLE, &UpgradeGiver::on_gate_readable);
  wait_for_ready();
}

// Sends the listeners and waits (in the loop) for the new daemon's word.
void UpgradeGiver::wait_for_ready() {
  uv_timer_init(source_.loop, &timer_);
  timer_.data = this;
  uv_poll_init(source_.loop, &poll_, channel_->fd());
  poll_.data = this;
  open_handles_ += 2;
  handles_open_ = true;
  std::string error;
  if (!send_start(error)) {
    lost_channel(error);  // the outcome follows (finish() says why)
    return;
  }
  waiting_ready_ = true;
  uv_poll_start(&poll_, UV_READABLE, &UpgradeGiver::on_readable);
  uv_timer_start(&timer_, &UpgradeGiver::on_timer, kReadyTimeoutMs, 0);
}

// Supervised: the supervisor speaks on the gate only to call the upgrade off
// (its commit is read in try_moving()), or the gate closes because it is gone.
void UpgradeGiver::on_gate_readable(uv_poll_t* poll, int, int) {
  auto& self = *static_cast<UpgradeGiver*>(poll->data);
  if (self.finished_) return;
  UpgradeChannel::Message word;
  std::string error;
  if (!self.gate_->receive(word, 1000, error)) {
    self.roll_back("the supervisor's gate " + error);
    return;
  }
  self.roll_back(word.kind == static_cast<std::uint8_t>(UpgradeKind::kAbort)
                     ? "the supervisor called it off: " + word.bytes
                     : std::string("the supervisor said something unexpected"));
}

bool UpgradeGiver::send_start(std::string& error) {
  StartMessage start;
  std::vector<int> fds;
  for (const UpgradeSource::ListenerRef& l : source_.listeners) {
    if (l.listener == nullptr || l.listener->fd() < 0) continue;
    start.sockets.push_back({l.role, l.address});
    fds.push_back(l.listener->fd());
  }
  if (source_.board_fd >= 0) {
    start.sockets.push_back({"board", ""});
    fds.push_back(source_.board_fd);
  }
  return channel_->send(static_cast<std::uint8_t>(UpgradeKind::kStart), encode(start), fds, 5000,
                        error);
}

void UpgradeGiver::on_readable(uv_poll_t* poll, int, int) {
  auto& self = *static_cast<UpgradeGiver*>(poll->data);
  if (self.waiting_ready_) self.ready();
}

void UpgradeGiver::on_timer(uv_timer_t* timer) {
  auto& self = *static_cast<UpgradeGiver*>(timer->data);
  if (!self.channel_lost_.empty()) {
    self.roll_back(self.channel_lost_);
    return;
  }
  if (self.waiting_ready_) {
    self.roll_back("the new binary was not ready within " + std::to_string(kReadyTimeoutMs / 1000) +
                   " s");
    return;
  }
  self.try_moving();
}

void UpgradeGiver::on_exit(uv_process_t* process, std::int64_t status, int signal) {
  auto& self = *static_cast<UpgradeGiver*>(process->data);
  self.process_running_ = false;
  if (self.finished_) {
    // Killed in a rollback: reaped now, the handle can go.
    uv_close(reinterpret_cast<uv_handle_t*>(process), &UpgradeGiver::on_handle_closed);
    return;
  }
  self.roll_back(successor_exit_reason(status, signal));
}

// The channel failed before the new daemon was ready: most often because it
// exited, and its exit status says why better than the channel can. That comes
// through on_exit(); this reason is used if it does not within a second.
void UpgradeGiver::lost_channel(const std::string& why) {
  channel_lost_ = why;
  waiting_ready_ = false;
  if (handles_open_) {
    uv_poll_stop(&poll_);
    uv_timer_start(&timer_, &UpgradeGiver::on_timer, 1000, 0);
  } else {
    roll_back(why);
  }
}

// The new daemon spoke: ready (then move at the first quiet moment) or refused.
void UpgradeGiver::ready() {
  UpgradeChannel::Message message;
  std::string error;
  if (!channel_->receive(message, 1000, error)) {
    lost_channel(error == "closed" ? "the new binary closed the channel before it was ready"
                                   : error);
    return;
  }
  if (message.kind == static_cast<std::uint8_t>(UpgradeKind::kRefused)) {
    roll_back("the new binary refused: " + message.bytes);
    return;
  }
  if (message.kind != static_cast<std::uint8_t>(UpgradeKind::kReady)) {
    roll_back("the new binary said something unexpected before it was ready");
    return;
  }
  waiting_ready_ = false;
  uv_poll_stop(&poll_);
  uv_timer_stop(&timer_);
  // New connections are the new daemon's from now on (it listens on the same
  // sockets; until its loop runs they wait in the queue).
  for (UpgradeSource::ListenerRef& l : source_.listeners)
    if (l.listener != nullptr) l.listener->pause();
  // A TLS connection cannot move (OpenSSL keeps its state in this process): its
  // held requests are answered now, as their wait would, and it closes after
  // them; the client's next request comes on a new connection, which the new
  // daemon accepts. The sessions then move with no connection. And a held
  // request whose wait ends within kDueSoonMs is answered now too: the loop
  // will stand still for a moment, and a client gives an answer only a little
  // more than its wait (Strophe.js: 1.1 times) before it calls it lost.
  std::size_t answered = release_tls_requests();
  for (bosh::Session* session : source_.sessions->live()) {
    if (session->answer_held_due_within(kDueSoonMs)) ++answered;
  }
  if (answered > 0) {
    SB_LOG_DEBUG("upgrade: %zu sessions' held requests answered before the move", answered);
    uv_timer_start(&timer_, &UpgradeGiver::on_timer, kQuietRetryMs, 0);
    return;
  }
  try_moving();
}

std::size_t UpgradeGiver::release_tls_requests() {
  const auto socket_of = sockets_by_exchange(*source_.sockets);
  // The client's TLS state is in this process, or (relayed) in another worker's:
  // either way the connection cannot move.
  const auto on_tls = [&](const http::Exchange* e) {
    const auto found = socket_of.find(e);
    return found != socket_of.end() && (found->second->tls() || found->second->tls_relayed());
  };
  std::size_t released = 0;
  for (bosh::Session* session : source_.sessions->live()) {
    const std::vector<http::Exchange*> exchanges = session->exchanges();
    if (std::none_of(exchanges.begin(), exchanges.end(), on_tls)) continue;
    session->let_held_requests_go();
    ++released;
  }
  return released;
}

void UpgradeGiver::try_moving() {
  ++tries_;
  Plan plan;
  if (!this->plan(plan, tries_ >= kQuietTries)) {
    uv_timer_start(&timer_, &UpgradeGiver::on_timer, kQuietRetryMs, 0);
    return;
  }
  std::string error;
  if (!send_plan(plan, error)) {
    roll_back(error);
    return;
  }
  UpgradeChannel::Message answer;
  if (!channel_->receive(answer, kAnswerTimeoutMs, error)) {
    roll_back(error == "closed" ? "the new binary closed the channel while taking over" : error);
    return;
  }
  if (answer.kind == static_cast<std::uint8_t>(UpgradeKind::kRefused)) {
    roll_back("the new binary refused the sessions: " + answer.bytes);
    return;
  }
  if (answer.kind != static_cast<std::uint8_t>(UpgradeKind::kTaken)) {
    roll_back("the new binary said something unexpected while taking over");
    return;
  }
  if (gate_ && !hear_commit(error)) {
    roll_back(error);
    return;
  }
  commit(plan);
}

// Supervised: every worker's successor must have read its records before any
// old worker lets go, so this one says "taken" on the gate and waits, still
// holding its loop, for the supervisor's commit. False, with the reason, for
// anything else.
bool UpgradeGiver::hear_commit(std::string& error) {
  if (!gate_->send(static_cast<std::uint8_t>(UpgradeKind::kTaken), encode(account_), {}, 5000,
                   error)) {
    error = "cannot tell the supervisor: " + error;
    return false;
  }
  UpgradeChannel::Message word;
  if (!gate_->receive(word, kAnswerTimeoutMs, error)) {
    error = "no word from the supervisor: " + error;
    return false;
  }
  if (word.kind == static_cast<std::uint8_t>(UpgradeKind::kCommit)) return true;
  error = word.kind == static_cast<std::uint8_t>(UpgradeKind::kAbort)
              ? "the supervisor called it off: " + word.bytes
              : std::string("the supervisor said something unexpected");
  return false;
}

// Decides what moves now. False while some session is not movable yet and this
// is not the last try.
bool UpgradeGiver::plan(Plan& plan, bool last_try) {
  const auto socket_of = sockets_by_exchange(*source_.sockets);
  std::unordered_set<const HttpSocket*> claimed;
  for (bosh::Session* session : source_.sessions->live()) {
    Plan::Moving m;
    m.session = session;
    bool movable = true;
    xmpp::UpstreamLink* link = nullptr;
    if (engine::Upstream* upstream = session->live_upstream()) {
      link = dynamic_cast<xmpp::UpstreamLink*>(upstream);
      if (keeps_tls(link)) {
        ++plan.tls;
        continue;
      }
      movable = link != nullptr && link->movable();
    }
    // Its exchanges must fill whole sockets, each movable, in the record's order.
    const std::vector<http::Exchange*> exchanges = session->exchanges();
    std::size_t next = 0;
    while (movable && next < exchanges.size()) {
      const auto found = socket_of.find(exchanges[next]);
      if (found == socket_of.end() || !found->second->movable() || claimed.count(found->second)) {
        movable = false;
        break;
      }
      HttpSocket* socket = found->second;
      for (http::Exchange* e : socket->waiting_exchanges()) {
        if (next >= exchanges.size() || exchanges[next] != e) {
          movable = false;
          break;
        }
        ++next;
      }
      if (movable) m.sockets.push_back(socket);
    }
    if (!movable) {
      ++plan.busy;
      if (!last_try) return false;
      continue;
    }
    for (HttpSocket* socket : m.sockets) claimed.insert(socket);
    plan.moving.push_back(std::move(m));
  }
  bool ws_busy = false;
  WsSocket::for_each(source_.loop, [&](WsSocket& socket) {
    if (!socket.session_created()) return;  // no stream yet: it ends, as a connection
    auto* link = dynamic_cast<xmpp::UpstreamLink*>(socket.live_upstream());
    if (socket.tls() || keeps_tls(link)) {
      ++plan.tls;  // wss://, or TLS to the server
      return;
    }
    if (!socket.movable() || link == nullptr || !link->movable()) {
      ++plan.busy_ws;
      ws_busy = true;
      return;
    }
    Plan::Moving m;
    m.websocket = &socket;
    plan.moving.push_back(std::move(m));
  });
  if (ws_busy && !last_try) return false;
  for (HttpSocket* s = source_.sockets->first(); s != nullptr; s = s->next) {
    if (claimed.count(s)) continue;
    const std::string_view why = s->why_not_movable();
    if (!why.empty() || s->requests_in_flight() > 0) {
      ++plan.staying[std::string(why.empty() ? "a request of no session" : why)];
      continue;
    }
    Plan::Moving m;
    m.sockets.push_back(s);
    plan.moving.push_back(std::move(m));
  }
  // The records and the duplicates, now that the moment is chosen.
  for (Plan::Moving& m : plan.moving) {
    m.item.type = m.session != nullptr     ? MovingItem::Type::kSession
                  : m.websocket != nullptr ? MovingItem::Type::kWebSocket
                                           : MovingItem::Type::kIdle;
    if (m.websocket != nullptr) {
      auto* link = static_cast<xmpp::UpstreamLink*>(m.websocket->live_upstream());
      m.item.session = ws::encode(m.websocket->record());
      m.item.link = xmpp::encode(link->record());
      m.fds.push_back(link->socket_fd());
      m.fds.push_back(m.websocket->socket_fd());
      continue;
    }
    if (m.session != nullptr) {
      m.item.session = bosh::encode(m.session->record());
      if (engine::Upstream* upstream = m.session->live_upstream()) {
        auto* link = static_cast<xmpp::UpstreamLink*>(upstream);
        m.item.link = xmpp::encode(link->record());
        m.fds.push_back(link->socket_fd());
      }
    }
    for (HttpSocket* socket : m.sockets) {
      m.item.connections.push_back(http::encode(socket->record()));
      m.fds.push_back(socket->socket_fd());
    }
  }
  return true;
}

bool UpgradeGiver::send_plan(Plan& plan, std::string& error) {
  for (const Plan::Moving& m : plan.moving) {
    for (int fd : m.fds) {
      if (fd < 0) {
        error = "a socket to move has no descriptor";
        return false;
      }
    }
  }
  std::vector<MovingItem> batch;
  std::vector<int> fds;
  std::size_t bytes = 0;
  const auto flush = [&]() {
    if (batch.empty()) return true;
    const bool ok = channel_->send(static_cast<std::uint8_t>(UpgradeKind::kBatch), encode(batch),
                                   fds, kAnswerTimeoutMs, error);
    batch.clear();
    fds.clear();
    bytes = 0;
    return ok;
  };
  EndMessage end;
  end.started_ns = started_ns_;
  for (Plan::Moving& m : plan.moving) {
    const std::size_t size = m.item.session.size() + m.item.link.size() + 64;
    if (fds.size() + m.fds.size() > UpgradeChannel::kMaxFds || bytes + size > kBatchBytes) {
      if (!flush()) return false;
    }
    if (m.session != nullptr || m.websocket != nullptr) {
      ++end.sessions;
    } else {
      ++end.connections;
    }
    fds.insert(fds.end(), m.fds.begin(), m.fds.end());
    bytes += size;
    batch.push_back(std::move(m.item));
  }
  if (!flush()) return false;
  if (plan.busy > 0) end.ended.emplace_back("busy", plan.busy);
  if (plan.busy_ws > 0) end.ended.emplace_back("websocket", plan.busy_ws);
  if (plan.tls > 0) end.ended.emplace_back("tls", plan.tls);
  if (!channel_->send(static_cast<std::uint8_t>(UpgradeKind::kEnd), encode(end), {},
                      kAnswerTimeoutMs, error)) {
    return false;
  }
  account_ = std::move(end);
  return true;
}

// The new daemon holds every record: the moved sessions and sockets leave this
// process without a word to their peers, and it is told to go ahead.
void UpgradeGiver::commit(Plan& plan) {
  if (!plan.staying.empty()) {
    SB_LOG_WARN("upgrade: %llu client connections stay in this process (%s)",
                static_cast<unsigned long long>(reason_total(plan.staying)),
                reason_list(plan.staying).c_str());
  }
  for (Plan::Moving& m : plan.moving) {
    if (m.websocket != nullptr) {
      std::unique_ptr<engine::Upstream> link = m.websocket->let_go();
      if (link) static_cast<xmpp::UpstreamLink*>(link.release())->let_go();
      continue;
    }
    if (m.session != nullptr) {
      bosh::Session::Departure departure = m.session->move_out();
      if (departure.upstream) {
        static_cast<xmpp::UpstreamLink*>(departure.upstream.release())->let_go();
      }
    }
    for (HttpSocket* socket : m.sockets) socket->let_go();
  }
  std::string error;
  if (!channel_->send(static_cast<std::uint8_t>(UpgradeKind::kCommit), {}, {}, 5000, error)) {
    // It has every record and waits for this word; without it, it takes over
    // when it sees the channel close (upgrade_taker.cpp).
    SB_LOG_WARN("upgrade: could not say commit (%s); the channel's end says it", error.c_str());
  }
  committed_ = true;
  UpgradeOutcome outcome;
  outcome.committed = true;
  outcome.child_pid = child_pid_;
  outcome.account = account_;
  finish(std::move(outcome));
}

// Nothing was let go: resume accepting and keep everything.
void UpgradeGiver::roll_back(const std::string& why) {
  if (finished_) return;
  std::string ignored;
  if (channel_)
    channel_->send(static_cast<std::uint8_t>(UpgradeKind::kAbort), why, {}, 100, ignored);
  // The supervisor calls the others off (if it was not the one calling off).
  if (gate_) gate_->send(static_cast<std::uint8_t>(UpgradeKind::kRefused), why, {}, 100, ignored);
  if (process_running_) uv_process_kill(&process_, SIGKILL);
  for (UpgradeSource::ListenerRef& l : source_.listeners)
    if (l.listener != nullptr) l.listener->resume();
  UpgradeOutcome outcome;
  outcome.reason = why;
  outcome.child_pid = child_pid_;
  finish(std::move(outcome));
}

void UpgradeGiver::abandon(const std::string& why) { roll_back(why); }

void UpgradeGiver::finish(UpgradeOutcome outcome) {
  finished_ = true;
  // The loop stood still while the sessions went: timers the outcome starts (the
  // shutdown's drain) must count from now, not from before.
  uv_update_time(source_.loop);
  waiting_ready_ = false;
  close_handles();
  // Committed, the channel stays for the worker to pass on the connections that
  // stayed behind (take_channel(), successor_link.hpp).
  if (!outcome.committed) channel_.reset();
  gate_.reset();
  if (done_) done_(outcome);
}

void UpgradeGiver::close_handles() {
  if (gate_) uv_close(reinterpret_cast<uv_handle_t*>(&gate_poll_), &UpgradeGiver::on_handle_closed);
  if (!handles_open_) return;
  handles_open_ = false;
  uv_close(reinterpret_cast<uv_handle_t*>(&poll_), &UpgradeGiver::on_handle_closed);
  uv_close(reinterpret_cast<uv_handle_t*>(&timer_), &UpgradeGiver::on_handle_closed);
  // Committed, the new daemon lives on and this process stops watching it. Rolled
  // back, it was killed: on_exit() reaps it and closes the handle then.
  if (spawned_ && (!process_running_ || committed_)) {
    uv_close(reinterpret_cast<uv_handle_t*>(&process_), &UpgradeGiver::on_handle_closed);
  }
}

void UpgradeGiver::on_handle_closed(uv_handle_t* handle) {
  --static_cast<UpgradeGiver*>(handle->data)->open_handles_;
}

}  // namespace sb::app
