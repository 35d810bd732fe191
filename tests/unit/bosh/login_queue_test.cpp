// The endpoint's side of overload control (engine::LoginGate): a creation the gate
// queues waits unanswered and starts, as if just received, when its turn comes; one
// whose connection goes away is forgotten; one that waits kMaxQueuedMs is answered
// 503; a refusal is a 503 with the gate's Retry-After; shutting down answers the
// queued ones system-shutdown.
#include <doctest/doctest.h>

#include <functional>

#include "bosh/endpoint.hpp"
#include "engine_fixture.hpp"

using sb::engine::LoginGate;
using sb::test::Engine;
using sb::test::FakeExchange;

namespace {

struct ScriptedGate final : LoginGate {
  Verdict next = Verdict::kAdmit;
  int turns = 0;  // queued logins admit_queued() lets through
  std::function<void()> room;
  Decision decide(std::size_t, bool can_queue) override {
    if (next == Verdict::kQueue && !can_queue) return {Verdict::kRefuse, 3};
    return {next, next == Verdict::kRefuse ? 3u : 0u};
  }
  bool admit_queued() override {
    if (turns == 0) return false;
    --turns;
    return true;
  }
  void on_room(std::function<void()> fn) override { room = std::move(fn); }
};

const std::string kCreate =
    "<body xmlns='http://jabber.org/protocol/httpbind' xmlns:xmpp='urn:xmpp:xbosh' rid='1000' "
    "to='example.com' xml:lang='en' ver='1.6' xmpp:version='1.0' wait='60' hold='1'/>";

}  // namespace

TEST_CASE("a queued creation waits, then starts when the gate says its turn came") {
  Engine engine;
  ScriptedGate gate;
  engine.endpoint->set_login_gate(&gate);
  gate.next = LoginGate::Verdict::kQueue;
  FakeExchange& first = engine.post(kCreate);
  FakeExchange& second = engine.post(kCreate);
  CHECK_FALSE(first.answered());
  CHECK(engine.endpoint->queued() == 2);
  CHECK(engine.upstreams.log.opened == 0);  // no work done while it waits

  gate.turns = 1;
  gate.room();
  CHECK(engine.endpoint->queued() == 1);
  CHECK(engine.upstreams.log.opened == 1);  // the first one started
  engine.upstreams.server_opens();
  CHECK(first.answered());
  CHECK_FALSE(Engine::attr(first.body(), "sid").empty());
  CHECK_FALSE(second.answered());

  SUBCASE("the second's client goes away: it is forgotten") {
    second.drop();
    gate.turns = 1;
    gate.room();
    CHECK(engine.endpoint->queued() == 0);
    CHECK(engine.upstreams.log.opened == 1);
    CHECK(gate.turns == 1);  // no turn spent on it
  }
  SUBCASE("the second waits too long: 503") {
    engine.advance_seconds(static_cast<double>(sb::bosh::Endpoint::kMaxQueuedMs) / 1000 + 1);
    gate.room();
    REQUIRE(second.answered());
    CHECK(second.response->status == 503);
    CHECK(engine.endpoint->queued() == 0);
  }
  SUBCASE("shutting down: the second is told system-shutdown") {
    engine.endpoint->refuse_new_sessions();
    REQUIRE(second.answered());
    CHECK(Engine::attr(second.body(), "condition") == "system-shutdown");
  }
}

TEST_CASE("a refused creation is a 503 with the gate's Retry-After, and nothing starts") {
  Engine engine;
  ScriptedGate gate;
  engine.endpoint->set_login_gate(&gate);
  gate.next = LoginGate::Verdict::kRefuse;
  FakeExchange& refused = engine.post(kCreate);
  REQUIRE(refused.answered());
  CHECK(refused.response->status == 503);
  bool found = false;
  for (const auto& [name, value] : refused.response->extra_headers) {
    if (name == "Retry-After") found = value == "3";
  }
  CHECK(found);
  CHECK(engine.upstreams.log.opened == 0);
  CHECK(engine.endpoint->counters().refused_overload == 1);
}
