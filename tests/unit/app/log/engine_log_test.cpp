// EngineLog (engine_log.hpp): the engine's events as info lines. A BOSH sid is the
// session's only secret when keys are not used, so the log shows its routing
// prefix and 6 of its 22 random characters, never the whole sid; WebSocket ids
// (prefix + "ws" + a counter) are no secret and are shown whole.
#include "app/printing.hpp"

#include <string>

#include "app/log/captured_log.hpp"
#include "app/log/engine_log.hpp"

using sb::app::EngineLog;
using sb::engine::Condition;
using sb::engine::Refusal;
using sb::test::CapturedLog;

namespace {
constexpr std::string_view kRandom = "AbCdEf0123456789_-xyzw";  // 22 characters, as make_sid writes
static_assert(kRandom.size() == 22);

bool contains(const std::string& text, std::string_view part) {
  return text.find(part) != std::string::npos;
}
}  // namespace

TEST_CASE("engine log: a created session shows its sid's prefix and 6 random characters only") {
  CapturedLog log;
  EngineLog events;
  const std::string sid = "w3" + std::string(kRandom);
  events.session_created(sid, "192.0.2.7", "example.com");
  const std::string line = log.drain();
  CHECK(contains(line, " INFO "));
  CHECK(contains(line, "session w3AbCdEf... created for example.com from 192.0.2.7\n"));
  CHECK_FALSE(contains(line, sid));
  CHECK_FALSE(contains(line, kRandom.substr(6)));

  // Without a routing prefix: the first 6 characters.
  events.session_created(kRandom, "192.0.2.7", "example.com");
  CHECK(contains(log.drain(), "session AbCdEf... created for"));
}

TEST_CASE("engine log: an ended session with and without a condition") {
  CapturedLog log;
  EngineLog events;
  const std::string sid = "w3" + std::string(kRandom);
  events.session_ended(sid, Condition::kItemNotFound, "rid out of window");
  std::string line = log.drain();
  CHECK(contains(line, "session w3AbCdEf... ended: rid out of window, condition item-not-found\n"));
  CHECK_FALSE(contains(line, sid));

  events.session_ended(sid, Condition::kNone, "client terminate");
  line = log.drain();
  CHECK(contains(line, "session w3AbCdEf... ended: client terminate\n"));
  CHECK_FALSE(contains(line, "condition"));
}

TEST_CASE("engine log: a WebSocket session id is short and shown whole") {
  CapturedLog log;
  EngineLog events;
  events.session_created("w3ws17", "192.0.2.7", "example.com");
  events.session_ended("w3ws17", Condition::kNone, "client close");
  const std::string lines = log.drain();
  CHECK(contains(lines, "session w3ws17... created for example.com from 192.0.2.7\n"));
  CHECK(contains(lines, "session w3ws17... ended: client close\n"));
}

TEST_CASE("engine log: a refused request names its peer and the reason, at info level") {
  CapturedLog log;
  EngineLog events;
  events.request_refused("198.51.100.9", Refusal::kPerAddressCap, "max_sessions_per_ip reached");
  CHECK(contains(
      log.drain(),
      " INFO [supervisor] request from 198.51.100.9 refused: max_sessions_per_ip reached\n"));

  sb::app::set_log_level(sb::app::LogLevel::kWarn);  // info lines are filtered above info
  events.request_refused("198.51.100.9", Refusal::kBadRid, "bad rid");
  CHECK(log.drain().empty());
}
