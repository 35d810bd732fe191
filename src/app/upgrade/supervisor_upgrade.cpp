// The old supervisor's part of an upgrade in place with several workers; see
// supervisor_upgrade.hpp.
#include "app/upgrade/supervisor_upgrade.hpp"

#include <unistd.h>

#include <csignal>

#include "app/log/log.hpp"
#include "app/upgrade/successor.hpp"
#include "app/upgrade/upgrade_wire.hpp"

namespace sb::app {

// One old worker's gate: the supervisor's end, watched in the loop.
struct SupervisorUpgrade::Gate {
  SupervisorUpgrade* owner = nullptr;
  std::uint32_t index = 0;
  std::unique_ptr<UpgradeChannel> channel;
  uv_poll_t poll{};
  bool polling = false;
  bool taken = false;
};

SupervisorUpgrade::SupervisorUpgrade(uv_loop_t* loop, std::uint32_t workers, Shared shared,
                                     SendGateFn send_gate, DoneFn done)
    : loop_(loop),
      workers_(workers),
      shared_(std::move(shared)),
      send_gate_(std::move(send_gate)),
      done_(std::move(done)) {}

SupervisorUpgrade::~SupervisorUpgrade() = default;

bool SupervisorUpgrade::start(const std::string& exe, const std::vector<std::string>& args,
                              std::string& error) {
  tally_.started_ns = monotonic_ns();
  if (workers_ + 2 > UpgradeChannel::kMaxFds) {
    error = "more workers than one message can carry channels for";
    return false;
  }
  int pair[2];
  if (!make_channel_pair(pair, error)) return false;
  successor_ = std::make_unique<UpgradeChannel>(pair[0]);
  const int rc = spawn_successor(loop_, &process_, exe, args, pair[1], &SupervisorUpgrade::on_exit);
  ::close(pair[1]);
  process_.data = this;
  ++open_handles_;
  if (rc != 0) {
    // libuv wants the handle closed even when the spawn failed.
    uv_close(reinterpret_cast<uv_handle_t*>(&process_), &SupervisorUpgrade::on_handle_closed);
    finished_ = true;
    successor_.reset();
    error = "cannot run " + exe + ": " + uv_strerror(rc);
    return false;
  }
  process_running_ = true;
  child_pid_ = process_.pid;
  uv_timer_init(loop_, &deadline_);
  deadline_.data = this;
  uv_poll_init(loop_, &poll_, successor_->fd());
  poll_.data = this;
  open_handles_ += 2;
  handles_open_ = true;
  uv_timer_start(&deadline_, &SupervisorUpgrade::on_deadline, kDeadlineMs, 0);
  uv_poll_start(&poll_, UV_READABLE, &SupervisorUpgrade::on_successor_readable);
  SB_LOG_INFO("upgrade: started %s (pid %d) beside this daemon", exe.c_str(), child_pid_);
  if (!send_channels(error)) call_off(error);
  return true;
}

// The board and one channel end per index to the new supervisor; a gate to
// each old worker, with the channel's other end on it.
bool SupervisorUpgrade::send_channels(std::string& error) {
  StartMessage start;
  std::vector<int> theirs;
  std::vector<int> ours;
  if (shared_.board_fd >= 0) start.sockets.push_back({"board", ""});
  if (shared_.metrics_fd >= 0) start.sockets.push_back({"metrics", shared_.metrics_address});
  for (std::uint32_t i = 0; i < workers_; ++i) {
    int pair[2];
    if (!make_channel_pair(pair, error)) break;
    ours.push_back(pair[0]);
    theirs.push_back(pair[1]);
    start.sockets.push_back({"worker", std::to_string(i)});
  }
  bool ok = ours.size() == workers_;
  if (ok) {
    std::vector<int> fds;
    if (shared_.board_fd >= 0) fds.push_back(shared_.board_fd);
    if (shared_.metrics_fd >= 0) fds.push_back(shared_.metrics_fd);
    for (int fd : theirs) fds.push_back(fd);
    ok = successor_->send(static_cast<std::uint8_t>(UpgradeKind::kStart), encode(start), fds, 5000,
                          error);
  }
  for (int fd : theirs) ::close(fd);
  for (std::uint32_t i = 0; i < ours.size(); ++i) {
    if (!ok) {
      ::close(ours[i]);
      continue;
    }
    int pair[2];
    if (!make_channel_pair(pair, error)) {
      ::close(ours[i]);
      ok = false;
      continue;
    }
    auto gate = std::make_unique<Gate>();
    gate->owner = this;
    gate->index = i;
    gate->channel = std::make_unique<UpgradeChannel>(pair[0]);
    if (!send_gate_(i, pair[1])) {  // it owns pair[1] now
      error = "worker " + std::to_string(i) + " cannot take its part now";
      ok = false;
    } else {
      // A few bytes into a fresh socket's buffer: read when the worker has its gate.
      ok = gate->channel->send(static_cast<std::uint8_t>(UpgradeKind::kStart), {}, {ours[i]}, 1000,
                               error);
    }
    ::close(ours[i]);
    uv_poll_init(loop_, &gate->poll, gate->channel->fd());
    gate->poll.data = gate.get();
    gate->polling = true;
    ++open_handles_;
    uv_poll_start(&gate->poll, UV_READABLE, &SupervisorUpgrade::on_gate_readable);
    gates_.push_back(std::move(gate));
  }
  return ok;
}

void SupervisorUpgrade::on_gate_readable(uv_poll_t* poll, int, int) {
  Gate& gate = *static_cast<Gate*>(poll->data);
  if (!gate.owner->finished_) gate.owner->heard(gate);
}

// An old worker spoke on its gate: taken (its new worker holds every record) or
// refused; its gate closing means it is gone.
void SupervisorUpgrade::heard(Gate& gate) {
  UpgradeChannel::Message word;
  std::string error;
  const std::string who = "worker " + std::to_string(gate.index);
  if (!gate.channel->receive(word, 1000, error)) {
    call_off(who + ": its gate " + error);
    return;
  }
  if (word.kind == static_cast<std::uint8_t>(UpgradeKind::kRefused)) {
    call_off(who + ": " + word.bytes);
    return;
  }
  EndMessage account;
  if (word.kind != static_cast<std::uint8_t>(UpgradeKind::kTaken) || gate.taken ||
      !decode(word.bytes, account, error)) {
    call_off(who + " said something unexpected on its gate");
    return;
  }
  gate.taken = true;
  tally_.moved += account.sessions;
  for (const auto& [reason, count] : account.ended) tally_.ended[reason] += count;
  SB_LOG_DEBUG("upgrade: %s: its new worker holds %llu sessions", who.c_str(),
               static_cast<unsigned long long>(account.sessions));
  if (++taken_ == workers_) commit();
}

void SupervisorUpgrade::on_successor_readable(uv_poll_t* poll, int, int) {
  auto& self = *static_cast<SupervisorUpgrade*>(poll->data);
  if (self.finished_) return;
  UpgradeChannel::Message word;
  std::string error;
  if (!self.successor_->receive(word, 1000, error)) {
    // Most often it exited; on_exit() says so with its status if it has been reaped.
    self.call_off("the new binary " + (error == "closed" ? "closed its channel" : error));
    return;
  }
  self.call_off(word.kind == static_cast<std::uint8_t>(UpgradeKind::kRefused)
                    ? "the new binary refused: " + word.bytes
                    : std::string("the new binary said something unexpected"));
}

void SupervisorUpgrade::on_exit(uv_process_t* process, std::int64_t status, int signal) {
  auto& self = *static_cast<SupervisorUpgrade*>(process->data);
  self.process_running_ = false;
  if (self.finished_) {
    // Killed when it was called off: reaped now, the handle can go.
    uv_close(reinterpret_cast<uv_handle_t*>(process), &SupervisorUpgrade::on_handle_closed);
    return;
  }
  self.call_off(successor_exit_reason(status, signal));
}

void SupervisorUpgrade::on_deadline(uv_timer_t* timer) {
  auto& self = *static_cast<SupervisorUpgrade*>(timer->data);
  self.call_off("no decision within " + std::to_string(kDeadlineMs / 1000) + " s");
}

// Every new worker holds its records: every old one lets go, and the new
// supervisor is told it runs the daemon now.
void SupervisorUpgrade::commit() {
  std::string error;
  for (auto& gate : gates_) {
    if (!gate->channel->send(static_cast<std::uint8_t>(UpgradeKind::kCommit), {}, {}, 1000,
                             error)) {
      // It was waiting for this word on a socket of its own: only its death stops it.
      SB_LOG_ERROR("upgrade: worker %u did not hear commit: %s", gate->index, error.c_str());
    }
  }
  if (!successor_->send(static_cast<std::uint8_t>(UpgradeKind::kCommit), {}, {}, 1000, error)) {
    SB_LOG_WARN("upgrade: could not say commit to the new supervisor: %s", error.c_str());
  }
  Outcome outcome;
  outcome.committed = true;
  outcome.child_pid = child_pid_;
  outcome.tally = tally_;
  finish(std::move(outcome));
}

// Every old worker keeps what it has; the new daemon goes.
void SupervisorUpgrade::call_off(const std::string& why) {
  if (finished_) return;
  std::string ignored;
  for (auto& gate : gates_) {
    gate->channel->send(static_cast<std::uint8_t>(UpgradeKind::kAbort), why, {}, 100, ignored);
  }
  if (successor_) {
    successor_->send(static_cast<std::uint8_t>(UpgradeKind::kAbort), why, {}, 100, ignored);
  }
  if (process_running_) uv_process_kill(&process_, SIGKILL);
  Outcome outcome;
  outcome.reason = why;
  outcome.child_pid = child_pid_;
  finish(std::move(outcome));
}

void SupervisorUpgrade::abandon(const std::string& why) { call_off(why); }

void SupervisorUpgrade::finish(Outcome outcome) {
  finished_ = true;
  close_handles(outcome.committed);
  if (done_) done_(outcome);
}

void SupervisorUpgrade::close_handles(bool committed) {
  for (auto& gate : gates_) {
    if (gate->polling) {
      gate->polling = false;
      uv_close(reinterpret_cast<uv_handle_t*>(&gate->poll), [](uv_handle_t* handle) {
        --static_cast<Gate*>(handle->data)->owner->open_handles_;
      });
    }
    gate->channel.reset();  // the words said are in its buffer still
  }
  successor_.reset();
  if (!handles_open_) return;
  handles_open_ = false;
  uv_close(reinterpret_cast<uv_handle_t*>(&poll_), &SupervisorUpgrade::on_handle_closed);
  uv_close(reinterpret_cast<uv_handle_t*>(&deadline_), &SupervisorUpgrade::on_handle_closed);
  // Committed, the new daemon lives on and this one stops watching it. Called
  // off, it was killed: on_exit() reaps it and closes the handle then.
  if (!process_running_ || committed) {
    uv_close(reinterpret_cast<uv_handle_t*>(&process_), &SupervisorUpgrade::on_handle_closed);
  }
}

void SupervisorUpgrade::on_handle_closed(uv_handle_t* handle) {
  --static_cast<SupervisorUpgrade*>(handle->data)->open_handles_;
}

}  // namespace sb::app
