// Admission control by file descriptors; see admission.hpp.
#include "app/admission.hpp"

#include "app/handover.hpp"
#include "app/listen_board.hpp"
#include "app/log.hpp"
#include "bosh/session_table.hpp"
#include "net/listener.hpp"
#include "net/tcp_stream.hpp"

namespace sb::app {

Admission::Admission(Setup setup, net::Listener& listener, const bosh::SessionTable& sessions,
                     ListenBoard* board)
    : setup_(setup), listener_(listener), sessions_(sessions), board_(board) {}

std::uint64_t Admission::live_fds() const {
  return setup_.baseline_fds + net::TcpStream::live_count();
}

void Admission::listening() {
  if (board_ != nullptr) board_->opened(setup_.index);
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
  const std::uint64_t sessions = sessions_.live_sessions();  // both transports
  const std::uint32_t cap = setup_.max_sessions;
  const FdBudget& budget = setup_.budget;
  if (!full_) {
    const bool fds_full = live >= budget.high;
    if (fds_full || (cap != 0 && sessions >= cap)) {
      full_ = true;
      kept_open_logged_ = false;
      ++counters_.full;
      SB_LOG_WARN("full, taking no new sessions: %llu of %llu descriptors in use (stop at %llu), "
                  "%llu sessions%s",
                  static_cast<unsigned long long>(live), static_cast<unsigned long long>(budget.limit),
                  static_cast<unsigned long long>(budget.high),
                  static_cast<unsigned long long>(sessions),
                  fds_full ? "" : " (this worker's share of max_sessions)");
    }
  } else {
    // A little below the cap again too, so one ending session does not flap it.
    const std::uint64_t slack = cap / 100;
    if (live < budget.low && (cap == 0 || sessions + slack < cap)) {
      full_ = false;
      reopen_failed_logged_ = false;
      ++counters_.room;
      SB_LOG_INFO("room again, taking new sessions: %llu descriptors in use, %llu sessions",
                  static_cast<unsigned long long>(live), static_cast<unsigned long long>(sessions));
    }
  }
  update_listener();
}

// Full: suspend the listener if another stays open. Room: reopen it. Both are
// retried on later checks (another worker may open, a reopen may fail for now).
void Admission::update_listener() {
  if (board_ == nullptr) return;
  if (full_ && listener_.listening()) {
    if (board_->try_close(setup_.index)) {
      listener_.suspend();
      ++counters_.suspended;
      SB_LOG_INFO("listener closed: new connections go to the other workers");
    } else if (!kept_open_logged_) {
      kept_open_logged_ = true;
      SB_LOG_WARN("the last open listener of the port stays open: new sessions get 503 until "
                  "a worker has room");
    }
  } else if (!full_ && listener_.suspended()) {
    std::string error;
    if (listener_.reopen(error) == 0) {
      board_->opened(setup_.index);
      ++counters_.reopened;
      SB_LOG_INFO("listener open again");
    } else if (!reopen_failed_logged_) {
      reopen_failed_logged_ = true;
      SB_LOG_WARN("cannot reopen the listener (will retry): %s", error.c_str());
    }
  }
}

}  // namespace sb::app
