// Admission control by file descriptors; see admission.hpp.
#include "app/process/admission.hpp"

#include "app/handover/handover.hpp"
#include "app/log/log.hpp"
#include "app/process/listen_board.hpp"
#include "net/listener.hpp"
#include "net/tcp_stream.hpp"

namespace sb::app {

Admission::Admission(Setup setup, net::Listener& listener, const engine::SessionCounts& sessions,
                     ListenBoard* board, net::Listener* tls_listener)
    : setup_(setup), sessions_(sessions), board_(board) {
  listeners_[0].listener = &listener;
  listeners_[0].name = "listener";
  listeners_[1].listener = tls_listener;
  listeners_[1].port = ListenPort::kTls;
  listeners_[1].name = "TLS listener";
}

std::uint64_t Admission::live_fds() const {
  return setup_.baseline_fds + net::TcpStream::live_count();
}

void Admission::listening() {
  if (board_ == nullptr) return;
  for (const Watched& watched : listeners_) {
    if (watched.listener != nullptr) board_->opened(setup_.index, watched.port);
  }
}

bool Admission::admits_new_session() {
  check();
  if (full_) ++counters_.refused;
  return !full_;
}

// Only workers with an open listener are candidates, and a full worker closes its
// listener unless it is the last: so a creation passed on lands on a worker with
// room, or on the last open one, which finds no other candidate and answers 503.
bool Admission::redirect_new_session(http::Request& request) {
  if (handover_ == nullptr || board_ == nullptr) return false;
  const auto target = board_->find_open(setup_.index, workers_, next_target_);
  if (!target || !handover_->pass_on(*target, request)) return false;
  next_target_ = *target + 1;
  ++counters_.redirected;
  return true;
}

void Admission::check() {
  if (stopped_) return;
  const std::uint64_t live = live_fds();
  const std::uint64_t sessions = sessions_.live();  // both transports
  const std::uint32_t cap = setup_.max_sessions;
  const FdBudget& budget = setup_.budget;
  if (!full_) {
    const bool fds_full = live >= budget.high;
    if (fds_full || (cap != 0 && sessions >= cap)) {
      full_ = true;
      for (Watched& watched : listeners_) watched.kept_open_logged = false;
      ++counters_.full;
      SB_LOG_WARN(
          "full, taking no new sessions: %llu of %llu descriptors in use (stop at %llu), "
          "%llu sessions%s",
          static_cast<unsigned long long>(live), static_cast<unsigned long long>(budget.limit),
          static_cast<unsigned long long>(budget.high), static_cast<unsigned long long>(sessions),
          fds_full ? "" : " (this worker's share of max_sessions)");
    }
  } else {
    // A little below the cap again too, so one ending session does not flap it.
    const std::uint64_t slack = cap / 100;
    if (live < budget.low && (cap == 0 || sessions + slack < cap)) {
      full_ = false;
      for (Watched& watched : listeners_) watched.reopen_failed_logged = false;
      ++counters_.room;
      SB_LOG_INFO("room again, taking new sessions: %llu descriptors in use, %llu sessions",
                  static_cast<unsigned long long>(live), static_cast<unsigned long long>(sessions));
    }
  }
  for (Watched& watched : listeners_) {
    if (watched.listener != nullptr) update_listener(watched);
  }
}

// Full: suspend the listener if another of its port stays open. Room: reopen it.
// Both are retried on later checks (another worker may open, a reopen may fail
// for now).
void Admission::update_listener(Watched& watched) {
  if (board_ == nullptr) return;
  net::Listener& listener = *watched.listener;
  if (full_ && listener.listening()) {
    if (board_->try_close(setup_.index, watched.port)) {
      listener.suspend();
      ++counters_.suspended;
      SB_LOG_INFO("%s closed: new connections go to the other workers", watched.name);
    } else if (!watched.kept_open_logged) {
      watched.kept_open_logged = true;
      SB_LOG_WARN(
          "the last open %s of the port stays open: new sessions get 503 until "
          "a worker has room",
          watched.name);
    }
  } else if (!full_ && listener.suspended()) {
    std::string error;
    if (listener.reopen(error) == 0) {
      board_->opened(setup_.index, watched.port);
      ++counters_.reopened;
      SB_LOG_INFO("%s open again", watched.name);
    } else if (!watched.reopen_failed_logged) {
      watched.reopen_failed_logged = true;
      SB_LOG_WARN("cannot reopen the %s (will retry): %s", watched.name, error.c_str());
    }
  }
}

}  // namespace sb::app
