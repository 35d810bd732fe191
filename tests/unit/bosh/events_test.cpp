// The engine reports every session's start and end, and every refused request,
// through EngineEvents (the daemon logs them).
#include <doctest/doctest.h>

#include <string>
#include <vector>

#include "engine/engine_events.hpp"
#include "engine_fixture.hpp"

namespace {
struct RecordingEvents final : sb::engine::EngineEvents {
  std::vector<std::string> lines;
  std::vector<std::string> requests;
  void request_received(sb::engine::RequestKind kind, std::size_t stanzas) override {
    requests.push_back(std::string(sb::engine::request_kind_label(kind)) + " " +
                       std::to_string(stanzas));
  }
  void session_created(std::string_view sid, std::string_view peer, std::string_view to) override {
    lines.push_back("created " + std::string(to) + " " + std::string(peer) + " " +
                    std::to_string(sid.size()));
  }
  void session_ended(std::string_view, sb::engine::Condition condition,
                     std::string_view reason) override {
    lines.push_back("ended " + std::string(reason) + " [" +
                    std::string(sb::engine::condition_name(condition)) + "]");
  }
  void request_refused(std::string_view peer, sb::engine::Refusal refusal,
                       std::string_view reason) override {
    lines.push_back("refused " + std::string(peer) + " " + std::string(reason) + " (" +
                    std::string(sb::engine::refusal_label(refusal)) + ")");
  }
};
}  // namespace

using sb::test::Engine;

TEST_CASE("session starts, ends and refusals are reported with their reasons") {
  Engine e;
  RecordingEvents events;
  e.table->set_events(&events);
  e.settings.inactivity = 10;

  auto sid = e.open_session();
  e.post(Engine::req(sid, 1001, "", "type='terminate'"));
  auto sid2 = e.open_session();
  e.advance_seconds(11);
  e.post(Engine::req("nope", 1));
  e.post("<body xmlns='http://jabber.org/protocol/httpbind' rid='1' ver='1.6'/>");
  e.post("not xml");

  CHECK(events.lines == std::vector<std::string>{
                            "created example.com 127.0.0.1 22",
                            "ended client terminate []",
                            "created example.com 127.0.0.1 22",
                            "ended inactivity []",
                            "refused 127.0.0.1 unknown sid (unknown_sid)",
                            "refused 127.0.0.1 new session without 'to' (missing_to)",
                            "refused 127.0.0.1 not well-formed XML (bad_body)",
                        });
}

TEST_CASE("ends with a condition name it") {
  Engine e;
  RecordingEvents events;
  e.table->set_events(&events);
  auto sid = e.open_session();
  e.post(Engine::req(sid, 1009));
  REQUIRE(events.lines.size() == 2);
  CHECK(events.lines[1] == "ended rid beyond the window [item-not-found]");
}

TEST_CASE("requests are reported by kind with their stanza count") {
  Engine e;
  RecordingEvents events;
  e.table->set_events(&events);
  auto sid = e.open_session();
  e.post(Engine::req(sid, 1001, "<message to='a@b'/><presence/>"));
  e.post(Engine::req(sid, 1002));
  e.post(Engine::req(sid, 1003, "", "xmpp:restart='true' xmlns:xmpp='urn:xmpp:xbosh'"));
  e.post(Engine::req(sid, 1004, "", "pause='5'"));
  e.post(Engine::req(sid, 1005, "", "type='terminate'"));
  e.post(Engine::req("nope", 1));  // refused: not a request of a session
  CHECK(events.requests == std::vector<std::string>{"create 0", "payload 2", "empty 0", "restart 0",
                                                    "pause 0", "terminate 0"});
}
