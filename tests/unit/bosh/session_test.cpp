#include <doctest/doctest.h>

#include "engine_fixture.hpp"

using sb::test::Engine;

// Every idle session holds one: its size is a memory figure (docs/architecture.md).
static_assert(sizeof(void*) != 8 || sizeof(sb::bosh::Session) <= 376, "a session is 376 bytes");

TEST_CASE("creation: the first response carries the session attributes and the features") {
  Engine e;
  auto& ex = e.post(
      "<body xmlns='http://jabber.org/protocol/httpbind' xmlns:xmpp='urn:xmpp:xbosh' rid='1000' "
      "to='example.com' xml:lang='de' ver='1.6' wait='600' hold='3' xmpp:version='1.0'/>");
  // Held until the server's features arrive.
  CHECK_FALSE(ex.answered());
  CHECK(e.upstreams.log.last_target.to == "example.com");
  CHECK(e.upstreams.log.last_target.lang == "de");
  CHECK(e.upstreams.log.last_target.port == 5222);
  e.upstreams.server_opens();
  REQUIRE(ex.answered());
  const std::string body = ex.body();
  CHECK(ex.response->status == 200);
  CHECK(ex.response->content_type == "text/xml; charset=utf-8");
  CHECK(Engine::attr(body, "sid").size() == 22);
  CHECK(Engine::attr(body, "wait") == "120");  // capped at max_wait
  CHECK(Engine::attr(body, "hold") == "1");    // capped at max_hold
  CHECK(Engine::attr(body, "requests") == "2");
  CHECK(Engine::attr(body, "ver") == "1.6");
  CHECK(Engine::attr(body, "inactivity") == "60");
  CHECK(Engine::attr(body, "polling") == "2");
  CHECK(Engine::attr(body, "maxpause") == "120");
  CHECK(Engine::attr(body, "authid") == "stream-id-1");
  CHECK(Engine::attr(body, "from") == "example.com");
  CHECK(Engine::attr(body, "xmpp:version") == "1.0");
  CHECK(Engine::attr(body, "xmpp:restartlogic") == "true");
  CHECK(body.find("xmlns:stream='http://etherx.jabber.org/streams'") != std::string::npos);
  CHECK(body.find("<stream:features><mechanisms") != std::string::npos);
  CHECK(e.table->size() == 1);
}

TEST_CASE("a held request is answered as soon as the server sends, all of one read together") {
  Engine e;
  auto sid = e.open_session();
  auto& poll = e.post(Engine::req(sid, 1001));
  CHECK_FALSE(poll.answered());
  e.upstreams.events->upstream_stanza("<message xmlns='jabber:client'><body>1</body></message>");
  e.upstreams.events->upstream_stanza("<message xmlns='jabber:client'><body>2</body></message>");
  CHECK_FALSE(poll.answered());  // not before the end of the read
  e.upstreams.events->upstream_batch_end();
  REQUIRE(poll.answered());
  CHECK(poll.body().find("<body>1</body></message><message") != std::string::npos);
  CHECK(poll.body().find("<body>2</body>") != std::string::npos);
}

TEST_CASE("with hold=1 a new request releases the older one, empty") {
  Engine e;
  auto sid = e.open_session();
  auto& first = e.post(Engine::req(sid, 1001));
  auto& second = e.post(Engine::req(sid, 1002, "<presence xmlns='jabber:client'/>"));
  REQUIRE(first.answered());
  CHECK(first.body() ==
        "<body xmlns='http://jabber.org/protocol/httpbind' "
        "xmlns:stream='http://etherx.jabber.org/streams'/>");
  CHECK_FALSE(second.answered());
  REQUIRE(e.upstreams.log.sent.size() == 1);
  CHECK(e.upstreams.log.sent[0] == "<presence xmlns=\"jabber:client\"/>");
}

TEST_CASE("server data with no request waiting is queued for the next one") {
  Engine e;
  auto sid = e.open_session();
  e.upstreams.server_sends("<message xmlns='jabber:client'><body>queued</body></message>");
  auto& poll = e.post(Engine::req(sid, 1001));
  REQUIRE(poll.answered());
  CHECK(poll.body().find("queued") != std::string::npos);
}

TEST_CASE("an empty body after wait seconds") {
  Engine e;
  auto sid = e.open_session("wait='10' hold='1'");
  auto& poll = e.post(Engine::req(sid, 1001));
  e.advance_seconds(9.5);
  CHECK_FALSE(poll.answered());
  e.advance_seconds(1);
  REQUIRE(poll.answered());
  CHECK(poll.body().find("/>") != std::string::npos);
  CHECK(e.table->size() == 1);
}

TEST_CASE("requests are processed in rid order, an early one waits for the gap") {
  Engine e;
  auto sid = e.open_session();
  auto& third = e.post(Engine::req(sid, 1002, "<message xmlns='jabber:client' id='b'/>"));
  CHECK(e.upstreams.log.sent.empty());
  auto& second = e.post(Engine::req(sid, 1001, "<message xmlns='jabber:client' id='a'/>"));
  REQUIRE(e.upstreams.log.sent.size() == 2);
  CHECK(e.upstreams.log.sent[0].find("id=\"a\"") != std::string::npos);
  CHECK(e.upstreams.log.sent[1].find("id=\"b\"") != std::string::npos);
  CHECK(second.answered());  // released by the later one (hold=1)
  CHECK_FALSE(third.answered());
}

TEST_CASE("a repeated rid gets the very same response again") {
  Engine e;
  auto sid = e.open_session();
  auto& poll = e.post(Engine::req(sid, 1001));
  e.upstreams.server_sends("<message xmlns='jabber:client'><body>hi</body></message>");
  REQUIRE(poll.answered());
  auto& again = e.post(Engine::req(sid, 1001));
  REQUIRE(again.answered());
  CHECK(again.body() == poll.body());
  CHECK(e.table->size() == 1);
}

TEST_CASE("a repeat of a rid still held takes its place, the old copy gets type='error'") {
  Engine e;
  auto sid = e.open_session();
  auto& poll = e.post(Engine::req(sid, 1001));
  auto& resend = e.post(Engine::req(sid, 1001));
  REQUIRE(poll.answered());
  CHECK(Engine::attr(poll.body(), "type") == "error");
  CHECK_FALSE(resend.answered());
  e.upstreams.server_sends("<message xmlns='jabber:client'/>");
  CHECK(resend.answered());
}

TEST_CASE("a rid beyond the window or no longer cached ends the session: item-not-found") {
  Engine e;
  auto sid = e.open_session();
  auto& far = e.post(Engine::req(sid, 1005));
  REQUIRE(far.answered());
  CHECK(Engine::attr(far.body(), "type") == "terminate");
  CHECK(Engine::attr(far.body(), "condition") == "item-not-found");
  CHECK(e.table->size() == 0);
  CHECK(e.upstreams.log.closed);

  Engine e2;
  sid = e2.open_session();
  for (std::uint64_t rid = 1001; rid <= 1004; ++rid) {
    e2.advance_seconds(2.5);  // slower than `polling`: not overactive
    e2.post(Engine::req(sid, rid));
  }
  auto& old = e2.post(Engine::req(sid, 1001));  // answered, but out of the cache
  CHECK(Engine::attr(old.body(), "condition") == "item-not-found");
  CHECK(e2.table->size() == 0);
}

TEST_CASE("unknown sid: 200 with item-not-found (only requests name no version)") {
  Engine e;
  auto& ex = e.post(Engine::req("nope", 5));
  CHECK(ex.response->status == 200);
  CHECK(Engine::attr(ex.body(), "condition") == "item-not-found");
}

TEST_CASE("a legacy client (no ver at creation) gets HTTP error codes") {
  Engine e;
  auto& create =
      e.post("<body xmlns='http://jabber.org/protocol/httpbind' rid='1000' to='example.com'/>");
  e.upstreams.server_opens();
  const std::string sid = Engine::attr(create.body(), "sid");
  auto& far = e.post(Engine::req(sid, 1009));
  CHECK(far.response->status == 404);
  auto& noto = e.post("<body xmlns='http://jabber.org/protocol/httpbind' rid='1'/>");
  CHECK(noto.response->status == 200);  // improper-addressing has no legacy code
  auto& badrid = e.post("<body xmlns='http://jabber.org/protocol/httpbind' rid='x' to='a'/>");
  CHECK(badrid.response->status == 400);
}

TEST_CASE("a resend of a held rid after the connection dropped takes its place again") {
  Engine e;
  auto sid = e.open_session();
  auto& poll = e.post(Engine::req(sid, 1001));
  poll.drop();  // network error: Strophe resends the same rid
  e.upstreams.server_sends("<message xmlns='jabber:client' id='while-away'/>");
  auto& resend = e.post(Engine::req(sid, 1001));
  REQUIRE(resend.answered());
  CHECK(resend.body().find("id='while-away'") != std::string::npos);
  CHECK(e.table->size() == 1);
}

TEST_CASE("a dropped request is answered empty when the client moves on, data waits") {
  Engine e;
  auto sid = e.open_session();
  auto& poll = e.post(Engine::req(sid, 1001));
  poll.drop();
  auto& next = e.post(Engine::req(sid, 1002));  // releases 1001 (nobody listens)
  CHECK_FALSE(next.answered());
  e.upstreams.server_sends("<message xmlns='jabber:client' id='kept'/>");
  REQUIRE(next.answered());
  CHECK(next.body().find("id='kept'") != std::string::npos);
  auto& late = e.post(Engine::req(sid, 1001));  // its empty answer is cached
  CHECK(late.answered());
  CHECK(late.body().find("kept") == std::string::npos);
}

TEST_CASE("a client whose connection dropped for good ends by inactivity") {
  Engine e;
  e.settings.inactivity = 5;
  auto sid = e.open_session("wait='60' hold='1'");
  auto& poll = e.post(Engine::req(sid, 1001));
  e.advance_seconds(1);
  poll.drop();
  e.advance_seconds(4.5);
  CHECK(e.table->size() == 1);
  e.advance_seconds(1);
  CHECK(e.table->size() == 0);
  CHECK(e.upstreams.log.closed);
}

TEST_CASE("domains and routes match case-insensitively") {
  Engine e;
  e.settings.default_upstream = {};
  e.settings.domains["chat.example"] = {"10.0.0.7", 5223};
  auto& ex = e.post(
      "<body xmlns='http://jabber.org/protocol/httpbind' rid='1' to='Chat.EXAMPLE' ver='1.6'/>");
  CHECK_FALSE(ex.answered());
  CHECK(e.upstreams.log.last_target.host == "10.0.0.7");
}

TEST_CASE("while shutting down, new sessions get system-shutdown") {
  Engine e;
  e.endpoint->refuse_new_sessions();
  auto& ex = e.post(
      "<body xmlns='http://jabber.org/protocol/httpbind' rid='1' to='example.com' ver='1.6'/>");
  CHECK(Engine::attr(ex.body(), "condition") == "system-shutdown");
  CHECK(e.table->size() == 0);
}

TEST_CASE("client terminate: payload forwarded, stream closed, type='terminate', session gone") {
  Engine e;
  auto sid = e.open_session();
  auto& held = e.post(Engine::req(sid, 1001));
  auto& bye = e.post(Engine::req(sid, 1002, "<presence type='unavailable' xmlns='jabber:client'/>",
                                 "type='terminate'"));
  CHECK(held.answered());
  REQUIRE(bye.answered());
  CHECK(Engine::attr(bye.body(), "type") == "terminate");
  CHECK(Engine::attr(bye.body(), "condition").empty());
  REQUIRE(e.upstreams.log.sent.size() == 1);
  CHECK(e.upstreams.log.sent[0].find("unavailable") != std::string::npos);
  CHECK(e.upstreams.log.closed);
  CHECK(e.table->size() == 0);
  auto& after = e.post(Engine::req(sid, 1003, "", "ver='1.6'"));
  CHECK(Engine::attr(after.body(), "condition") == "item-not-found");
}

TEST_CASE("inactivity ends a silent session and closes its stream") {
  Engine e;
  e.settings.inactivity = 30;
  auto sid = e.open_session();
  e.advance_seconds(29);
  CHECK(e.table->size() == 1);
  CHECK_FALSE(e.upstreams.log.closed);
  e.advance_seconds(2);
  CHECK(e.table->size() == 0);
  CHECK(e.upstreams.log.closed);
}

TEST_CASE("a held request keeps the session alive past inactivity") {
  Engine e;
  e.settings.inactivity = 5;
  auto sid = e.open_session("wait='60' hold='1'");
  auto& poll = e.post(Engine::req(sid, 1001));
  e.advance_seconds(30);
  CHECK(e.table->size() == 1);
  CHECK_FALSE(poll.answered());
  e.advance_seconds(31);  // wait expires: answered, then inactivity counts
  CHECK(poll.answered());
  e.advance_seconds(6);
  CHECK(e.table->size() == 0);
}

TEST_CASE("upstream failures end the session with the right condition") {
  SUBCASE("cannot connect") {
    Engine e;
    auto& ex = e.post(
        "<body xmlns='http://jabber.org/protocol/httpbind' rid='7' to='example.com' ver='1.6'/>");
    e.upstreams.events->upstream_closed(sb::engine::UpstreamEnd::kFailed, {});
    e.table->collect();
    CHECK(Engine::attr(ex.body(), "condition") == "remote-connection-failed");
    CHECK(e.table->size() == 0);
  }
  SUBCASE("a stream error is copied inside remote-stream-error, queued stanzas first") {
    Engine e;
    auto sid = e.open_session();
    e.upstreams.events->upstream_stanza("<message xmlns='jabber:client' id='last'/>");
    e.upstreams.events->upstream_closed(
        sb::engine::UpstreamEnd::kStreamError,
        "<stream:error><conflict xmlns='urn:ietf:params:xml:ns:xmpp-streams'/></stream:error>");
    CHECK(e.table->size() == 1);  // waits to tell the next request
    auto& next = e.post(Engine::req(sid, 1001));
    CHECK(Engine::attr(next.body(), "condition") == "remote-stream-error");
    CHECK(next.body().find("id='last'/><stream:error><conflict") != std::string::npos);
    CHECK(e.table->size() == 0);
  }
}

TEST_CASE("xmpp:restart restarts the stream, the new features answer the request") {
  Engine e;
  auto sid = e.open_session();
  auto& restart = e.post(Engine::req(
      sid, 1001, "", "to='example.com' xmpp:restart='true' xmlns:xmpp='urn:xmpp:xbosh'"));
  CHECK(e.upstreams.log.restarts == 1);
  CHECK_FALSE(restart.answered());
  e.upstreams.server_opens(
      "<stream:features><bind xmlns='urn:ietf:params:xml:ns:xmpp-bind'/></stream:features>");
  REQUIRE(restart.answered());
  CHECK(restart.body().find("<bind xmlns=") != std::string::npos);
}

TEST_CASE("a dropped connection forgets its held request, nothing is lost") {
  Engine e;
  auto sid = e.open_session();
  auto& poll = e.post(Engine::req(sid, 1001));
  poll.drop();
  e.upstreams.server_sends("<message xmlns='jabber:client' id='kept'/>");
  CHECK_FALSE(poll.answered());
  auto& next = e.post(Engine::req(sid, 1002));
  CHECK(next.body().find("id='kept'") != std::string::npos);
}

TEST_CASE("routing: host-unknown, improper-addressing, per-domain upstreams, allowed routes") {
  Engine e;
  e.settings.default_upstream = {};
  e.settings.domains["chat.example"] = {"10.0.0.7", 5223};
  e.settings.allowed_routes.push_back({"xmpp.internal", 5299});
  auto& unknown = e.post(
      "<body xmlns='http://jabber.org/protocol/httpbind' rid='1' to='other.example' ver='1.6'/>");
  CHECK(unknown.response->status == 200);
  CHECK(Engine::attr(unknown.body(), "condition") == "host-unknown");
  auto& noto = e.post("<body xmlns='http://jabber.org/protocol/httpbind' rid='1' ver='1.6'/>");
  CHECK(Engine::attr(noto.body(), "condition") == "improper-addressing");
  e.post("<body xmlns='http://jabber.org/protocol/httpbind' rid='1' to='chat.example' ver='1.6'/>");
  CHECK(e.upstreams.log.last_target.host == "10.0.0.7");
  CHECK(e.upstreams.log.last_target.port == 5223);
  e.post(
      "<body xmlns='http://jabber.org/protocol/httpbind' rid='1' to='chat.example' ver='1.6' "
      "route='xmpp:xmpp.internal:5299'/>");
  CHECK(e.upstreams.log.last_target.host == "xmpp.internal");
  e.post(
      "<body xmlns='http://jabber.org/protocol/httpbind' rid='1' to='chat.example' ver='1.6' "
      "route='xmpp:evil.example:25'/>");
  CHECK(e.upstreams.log.last_target.host == "10.0.0.7");  // not an open relay
}

TEST_CASE("the per-session queue is bounded: policy-violation, not unbounded memory") {
  Engine e;
  e.settings.max_session_queue_bytes = 1000;
  auto sid = e.open_session();
  for (int i = 0; i < 20; ++i) e.upstreams.server_sends(std::string(100, 'x'));
  auto& next = e.post(Engine::req(sid, 1001));
  CHECK(Engine::attr(next.body(), "condition") == "policy-violation");
  CHECK(e.table->size() == 0);
}

TEST_CASE("bad input: not XML is HTTP 400, a bad rid is bad-request, the session carries on") {
  Engine e;
  auto sid = e.open_session();
  auto& junk = e.post("<body xmlns='http://jabber.org/protocol/httpbind' rid='1'");
  CHECK(junk.response->status == 400);
  auto& norid =
      e.post("<body xmlns='http://jabber.org/protocol/httpbind' sid='" + sid + "' rid='x1'/>");
  CHECK(Engine::attr(norid.body(), "condition") == "bad-request");
  auto& huge = e.post(Engine::req(sid, 9007199254740993ULL));
  CHECK(Engine::attr(huge.body(), "condition") == "bad-request");
  CHECK(e.table->size() == 1);
  auto& ok = e.post(Engine::req(sid, 1001));
  e.upstreams.server_sends("<message xmlns='jabber:client'/>");
  CHECK(ok.answered());
}

TEST_CASE("pause answers what is held at once and allows a longer silence") {
  Engine e;
  e.settings.inactivity = 10;
  auto sid = e.open_session();
  auto& poll = e.post(Engine::req(sid, 1001));
  auto& pause = e.post(Engine::req(sid, 1002, "", "pause='60'"));
  CHECK(poll.answered());
  CHECK(pause.answered());
  e.advance_seconds(30);
  CHECK(e.table->size() == 1);
  auto& back = e.post(Engine::req(sid, 1003));
  CHECK_FALSE(back.answered());
  e.advance_seconds(61);
  CHECK(back.answered());
  e.advance_seconds(11);
  CHECK(e.table->size() == 0);
}

TEST_CASE("shutdown ends every session with system-shutdown") {
  Engine e;
  auto sid = e.open_session();
  auto& poll = e.post(Engine::req(sid, 1001));
  e.table->end_all(sb::bosh::Condition::kSystemShutdown);
  e.table->collect();
  CHECK(Engine::attr(poll.body(), "condition") == "system-shutdown");
  CHECK(e.table->size() == 0);
  CHECK(e.upstreams.log.closed);
}

TEST_CASE("a per-address cap refuses more sessions from one address: policy-violation") {
  Engine e;
  e.settings.max_sessions_per_ip = 2;
  const std::string create =
      "<body xmlns='http://jabber.org/protocol/httpbind' rid='1' to='example.com' ver='1.6'/>";
  e.post(create, "10.0.0.1");
  e.post(create, "10.0.0.1");
  auto& third = e.post(create, "10.0.0.1");
  CHECK(Engine::attr(third.body(), "condition") == "policy-violation");
  auto& other = e.post(create, "10.0.0.2");
  CHECK_FALSE(other.answered());  // created: waits for the server's features
  CHECK(e.table->size() == 3);
  CHECK(e.counts.from("10.0.0.1") == 2);
  // When one ends, the address may open another.
  e.table->end_all(sb::bosh::Condition::kSystemShutdown);
  e.table->collect();
  CHECK(e.counts.from("10.0.0.1") == 0);
  auto& again = e.post(create, "10.0.0.1");
  CHECK_FALSE(again.answered());
}

TEST_CASE("R14 without acks: responses the client must have had are not kept") {
  Engine e;
  auto sid = e.open_session();  // requests=2
  e.advance_seconds(3);
  e.post(Engine::req(sid, 1001));
  e.post(Engine::req(sid, 1002, "<presence xmlns='jabber:client'/>"));
  e.upstreams.server_sends("<message xmlns='jabber:client' id='big'/>");
  e.advance_seconds(3);
  e.post(Engine::req(sid, 1003));  // the client now has everything up to 1001
  auto& again = e.post(Engine::req(sid, 1002));
  CHECK(again.body().find("id='big'") != std::string::npos);
  auto& gone = e.post(Engine::req(sid, 1001));
  CHECK(Engine::attr(gone.body(), "condition") == "item-not-found");
}
