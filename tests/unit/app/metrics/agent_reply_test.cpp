// The agent-check weight (agent_reply.hpp).
#include "app/printing.hpp"

#include "app/metrics/agent_reply.hpp"

using namespace sb::app;

TEST_CASE("an empty node without caps offers its whole weight") {
  CHECK(agent_reply(AgentFigures{}) == "100%\n");
}

TEST_CASE("the weight is the room left under max_sessions") {
  AgentFigures f;
  f.max_sessions = 200;
  f.sessions = 50;
  CHECK(agent_weight_percent(f) == 75);
  f.sessions = 199;  // half a percent of room: still in the farm
  CHECK(agent_weight_percent(f) == 1);
  f.sessions = 200;
  CHECK(agent_reply(f) == "0%\n");
  f.sessions = 250;  // a reload lowered the cap below what is held
  CHECK(agent_weight_percent(f) == 0);
}

TEST_CASE("descriptors count when they are scarcer than sessions") {
  AgentFigures f;
  f.max_sessions = 1000;
  f.sessions = 100;  // 90 % room by sessions
  f.max_fds = 1000;
  f.open_fds = 800;  // 20 % by descriptors
  CHECK(agent_weight_percent(f) == 20);
  f.open_fds = 1000;
  CHECK(agent_weight_percent(f) == 0);
}

TEST_CASE("a drained node offers nothing, whatever its room") {
  AgentFigures f;
  f.drain = true;
  CHECK(agent_reply(f) == "0%\n");
}
