// A worker taking up the sessions its slot's keeper held for it: see
// app/keeper/session_keeper.hpp and docs/crash.md.
#include <utility>

#include "app/log/log.hpp"
#include "app/process/worker.hpp"

namespace sb::app {

// A worker of a slot whose last process died: the keeper's sessions come back
// (app/keeper/session_keeper.hpp), then every change goes to the keeper.
void Worker::recover_kept_sessions() {
  keeper_ = std::make_unique<SessionKeeper>(&loop_, std::exchange(keeper_fd_, -1), *sessions_,
                                            websocket_ ? &websocket_->shared() : nullptr);
  SessionKeeper::Recovery recovery;
  std::string error;
  if (!keeper_->recover(*upstreams_, *context_, recovery, error)) {
    SB_LOG_ERROR("keeper: %s; this worker's sessions are not kept", error.c_str());
    keeper_.reset();
    return;
  }
  if (recovery.lost > 0) {
    endpoint_->set_lost_sids(&keeper_->lost());
    SB_LOG_WARN(
        "keeper: %llu BOSH sessions of this worker ended in a crash of the whole daemon; "
        "their clients hear remote-connection-failed",
        static_cast<unsigned long long>(recovery.lost));
  }
  if (recovery.kept == 0) return;  // a first start, or nothing was kept
  SB_LOG_WARN(
      "keeper: %llu of %llu sessions continue after the last process of this worker%s%s "
      "(%llu ms)",
      static_cast<unsigned long long>(recovery.continued),
      static_cast<unsigned long long>(recovery.kept),
      recovery.ended.empty() ? "" : "; ended: ", reason_list(recovery.ended).c_str(),
      static_cast<unsigned long long>(recovery.ms));
}

}  // namespace sb::app
