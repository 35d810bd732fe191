// See engine_log.hpp.
#include "app/engine_log.hpp"

#include "app/log.hpp"

namespace sb::app {
namespace {
int length(std::string_view text) { return static_cast<int>(text.size()); }
}  // namespace

void EngineLog::session_created(std::string_view sid, std::string_view peer, std::string_view to) {
  SB_LOG_INFO("session %.*s created for %.*s from %.*s", length(sid), sid.data(), length(to),
              to.data(), length(peer), peer.data());
}

void EngineLog::session_ended(std::string_view sid, bosh::Condition condition,
                              std::string_view reason) {
  const std::string_view name = bosh::condition_name(condition);
  SB_LOG_INFO("session %.*s ended: %.*s%s%.*s", length(sid), sid.data(), length(reason),
              reason.data(), name.empty() ? "" : ", condition ", length(name), name.data());
}

void EngineLog::request_refused(std::string_view peer, std::string_view reason) {
  SB_LOG_INFO("request from %.*s refused: %.*s", length(peer), peer.data(), length(reason),
              reason.data());
}

}  // namespace sb::app
