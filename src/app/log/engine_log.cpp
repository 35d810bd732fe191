// See engine_log.hpp.
#include "app/log/engine_log.hpp"

#include "app/log/log.hpp"

namespace sb::app {
namespace {
int length(std::string_view text) { return static_cast<int>(text.size()); }

// A sid is the session's only secret when keys are not used: whoever reads the log
// must not be able to take a session over. The routing prefix and 6 of the 22
// random characters are enough to tell the lines of one session apart.
std::string_view loggable(std::string_view sid) {
  constexpr std::size_t kShown = 6;
  return sid.size() > 22 - kShown ? sid.substr(0, sid.size() - (22 - kShown)) : sid;
}
}  // namespace

void EngineLog::session_created(std::string_view full_sid, std::string_view peer,
                                std::string_view to) {
  const std::string_view sid = loggable(full_sid);
  SB_LOG_INFO("session %.*s... created for %.*s from %.*s", length(sid), sid.data(), length(to),
              to.data(), length(peer), peer.data());
}

void EngineLog::session_ended(std::string_view full_sid, engine::Condition condition,
                              std::string_view reason) {
  const std::string_view sid = loggable(full_sid);
  const std::string_view name = engine::condition_name(condition);
  SB_LOG_INFO("session %.*s... ended: %.*s%s%.*s", length(sid), sid.data(), length(reason),
              reason.data(), name.empty() ? "" : ", condition ", length(name), name.data());
}

void EngineLog::request_refused(std::string_view peer, engine::Refusal, std::string_view reason) {
  SB_LOG_INFO("request from %.*s refused: %.*s", length(peer), peer.data(), length(reason),
              reason.data());
}

}  // namespace sb::app
