// A BOSH session taken out of one engine as a record (bytes) and rebuilt in
// another, as an upgrade in place moves it: the client and the server must not be
// able to tell.
#include <doctest/doctest.h>

#include "bosh/engine_fixture.hpp"
#include "bosh/key_chain.hpp"
#include "bosh/session_record.hpp"

using namespace sb;
using sb::test::Engine;
using sb::test::FakeUpstream;

namespace {

// Moves session `sid` from `from` to `to` through the record's bytes; the client
// connections travel as they are, the server link is replaced by one of `to`'s
// fakes (in a real move it is the same socket).
bosh::Session& move(Engine& from, Engine& to, const std::string& sid) {
  bosh::Session* old = from.table->find(sid);
  REQUIRE(old != nullptr);
  const std::string bytes = bosh::encode(old->record());
  bosh::Session::Departure departure = old->move_out();
  from.table->collect();
  CHECK(from.table->find(sid) == nullptr);
  // The link is handed over, not closed: the server sees no </stream:stream>.
  CHECK_FALSE(from.upstreams.log.closed);
  if (departure.upstream) delete departure.upstream.release();  // its socket went with the record

  bosh::SessionRecord record;
  std::string error;
  REQUIRE_MESSAGE(bosh::decode(bytes, record, error), error);
  CHECK(record.connections() == departure.exchanges.size());
  const bool has_link = !record.upstream_dead;
  bosh::Session& moved = to.table->restore(std::move(record));
  std::unique_ptr<engine::Upstream> link;
  if (has_link) {
    link = std::make_unique<FakeUpstream>(to.upstreams.log);
    to.upstreams.events = &moved;
  }
  moved.resume(std::move(link), departure.exchanges);
  return moved;
}

}  // namespace

TEST_CASE("session record: the bytes give back the same record") {
  bosh::SessionRecord r;
  r.sid = "w1.abc";
  r.peer = "203.0.113.5";
  r.wait = 60;
  r.hold = 1;
  r.inactivity = 30;
  r.polling = 2;
  r.maxpause = 120;
  r.acks = true;
  r.ver = "1.6";
  r.target = {"xmpp.example", 5223, "example.com", "", "en", "1.0"};
  r.content_type = "text/xml";
  r.server = engine::StreamHeader{"id1", "example.com", "1.0"};
  r.state = bosh::SessionRecord::State::kEnded;
  r.end_condition = engine::Condition::kRemoteStreamError;
  r.creation_rid = 1000;
  r.last_rid = bosh::kMaxRid;
  r.inactivity_left_ms = 12'345;
  r.since_last_arrival_ms = 7;
  r.last_was_empty_poll = true;
  r.held = {{1001, 59'000, true, 0}, {1002, 100, false, 5'000}};
  bosh::ClientRequest early;
  early.rid = 1004;
  early.pause = 30;
  early.payload = "<message xmlns='jabber:client'/>";
  early.payload_elements = 1;
  early.ack = 1001;
  early.key = "k";
  r.early.push_back(early);
  r.cache = {{1000, "<body a='1'/>", 900}, {1001, std::string(3000, 'x'), 0}};
  r.outbox = "<presence/>";
  r.key = "0123abcd";
  r.report_rid = 1001;
  r.report_ms = 1500;

  bosh::SessionRecord back;
  std::string error;
  REQUIRE_MESSAGE(bosh::decode(bosh::encode(r), back, error), error);
  CHECK(bosh::encode(back) == bosh::encode(r));
  CHECK(back.sid == r.sid);
  CHECK(back.end_condition == engine::Condition::kRemoteStreamError);
  CHECK(back.held.size() == 2);
  CHECK_FALSE(back.held[1].connected);
  CHECK(back.early.at(0).payload == early.payload);
  CHECK(back.early.at(0).pause == 30u);
  CHECK(back.cache.at(1).body.size() == 3000);
  CHECK(back.connections() == 2);
}

TEST_CASE("session record: damaged, cut or newer bytes are refused with a reason") {
  bosh::SessionRecord r;
  r.sid = "w1.abc";
  r.cache = {{1000, "<body/>", 0}};
  const std::string bytes = bosh::encode(r);
  bosh::SessionRecord out;
  std::string error;
  // Every cut is refused (and none reads past the end: the sanitizer build
  // would say so).
  for (std::size_t n = 0; n < bytes.size(); ++n) {
    CHECK_FALSE(bosh::decode(bytes.substr(0, n), out, error));
    CHECK_FALSE(error.empty());
  }
  CHECK_FALSE(bosh::decode(bytes + "x", out, error));
  CHECK(error.find("bytes follow") != std::string::npos);
  std::string newer = bytes;
  newer[4] = static_cast<char>(bosh::kSessionRecordVersion + 1);
  CHECK_FALSE(bosh::decode(newer, out, error));
  CHECK(error.find("newer than this build reads") != std::string::npos);
  CHECK_FALSE(bosh::decode("GET / HTTP/1.1", out, error));
  CHECK(error == "not a BOSH session record");
  // A length far beyond the bytes there are is not believed.
  bosh::SessionRecord big;
  big.sid = "s";
  big.outbox = "abc";
  std::string lying = bosh::encode(big);
  const std::string tail(
      "\x01\x03"
      "abc"
      "\x00\x00\x00",
      8);  // outbox "abc", no key, no report
  REQUIRE(lying.size() > tail.size());
  REQUIRE(lying.substr(lying.size() - tail.size()) == tail);
  lying.replace(lying.size() - tail.size(), 2, std::string("\x01\xff\xff\x7f", 4));  // ~268 MB
  CHECK_FALSE(bosh::decode(lying, out, error));
  CHECK(error.find("the outbox") != std::string::npos);
}

TEST_CASE("a moved session answers its held long poll when the server speaks") {
  Engine a;
  Engine b;
  const std::string sid = a.open_session();
  auto& poll = a.post(Engine::req(sid, 1001));
  CHECK_FALSE(poll.answered());
  move(a, b, sid);
  CHECK(b.table->size() == 1);
  CHECK_FALSE(poll.answered());  // still held, now by the new engine
  b.upstreams.server_sends("<message xmlns='jabber:client' id='after'/>");
  REQUIRE(poll.answered());
  CHECK(poll.body().find("id='after'") != std::string::npos);
  // And the session goes on: the client's next request reaches the server.
  b.post(Engine::req(sid, 1002, "<message xmlns='jabber:client' id='up'/>"));
  REQUIRE(b.upstreams.log.sent.size() == 1);
  CHECK(b.upstreams.log.sent[0].find("id=\"up\"") != std::string::npos);
}

TEST_CASE("a moved session's wait goes on where it stood, not from the start") {
  Engine a;
  Engine b;
  const std::string sid = a.open_session("wait='10' hold='1'");
  auto& poll = a.post(Engine::req(sid, 1001));
  a.advance_seconds(7);
  move(a, b, sid);
  b.advance_seconds(2);
  CHECK_FALSE(poll.answered());
  b.advance_seconds(2);
  REQUIRE(poll.answered());  // 7 + 4 > 10: answered empty, as wait says
  CHECK(Engine::attr(poll.body(), "type").empty());
}

TEST_CASE(
    "a moved session replays a kept response, and its queued data waits for the next request") {
  Engine a;
  Engine b;
  const std::string sid = a.open_session();
  auto& poll = a.post(Engine::req(sid, 1001));
  a.upstreams.server_sends("<message xmlns='jabber:client' id='one'/>");
  REQUIRE(poll.answered());
  a.upstreams.server_sends("<message xmlns='jabber:client' id='two'/>");  // nobody waits
  move(a, b, sid);
  auto& again = b.post(Engine::req(sid, 1001));  // the client lost 1001's answer
  CHECK(again.body() == poll.body());
  auto& next = b.post(Engine::req(sid, 1002));
  REQUIRE(next.answered());
  CHECK(next.body().find("id='two'") != std::string::npos);
}

TEST_CASE("a moved session keeps an early request waiting for its gap") {
  Engine a;
  Engine b;
  const std::string sid = a.open_session();
  auto& third = a.post(Engine::req(sid, 1002, "<message xmlns='jabber:client' id='b'/>"));
  move(a, b, sid);
  CHECK(b.upstreams.log.sent.empty());
  auto& second = b.post(Engine::req(sid, 1001, "<message xmlns='jabber:client' id='a'/>"));
  REQUIRE(b.upstreams.log.sent.size() == 2);
  CHECK(b.upstreams.log.sent[0].find("id=\"a\"") != std::string::npos);
  CHECK(b.upstreams.log.sent[1].find("id=\"b\"") != std::string::npos);
  CHECK(second.answered());
  CHECK_FALSE(third.answered());
}

TEST_CASE("a moved session keeps its key chain and its acknowledgements") {
  // K(1) = sha1(seed), K(i) = sha1(K(i-1)); the client reveals K(3), K(2), K(1).
  std::vector<std::string> k{bosh::sha1_hex("seed")};
  for (int i = 1; i < 3; ++i) k.push_back(bosh::sha1_hex(k.back()));
  Engine a;
  Engine b;
  auto& create = a.post(
      "<body xmlns='http://jabber.org/protocol/httpbind' rid='1000' to='example.com' "
      "ver='1.6' ack='1' newkey='" +
      k[2] + "'/>");
  a.upstreams.server_opens();
  const std::string sid = Engine::attr(create.body(), "sid");
  a.advance_seconds(3);
  auto& first = a.post(
      Engine::req(sid, 1001, "<presence xmlns='jabber:client'/>", "key='" + k[1] + "' ack='1000'"));
  a.upstreams.server_sends("<message xmlns='jabber:client' id='m1'/>");
  REQUIRE(first.answered());
  move(a, b, sid);
  b.advance_seconds(3);
  // The chain goes on: K(1) is the next key; a wrong one would end the session.
  auto& second = b.post(Engine::req(sid, 1002, "<presence xmlns='jabber:client' id='2'/>",
                                    "key='" + k[0] + "' ack='1001'"));
  CHECK(b.upstreams.log.sent.size() == 1);
  CHECK(b.table->size() == 1);
  CHECK_FALSE(second.answered());
  b.upstreams.server_sends("<message xmlns='jabber:client' id='m2'/>");
  REQUIRE(second.answered());
  // With acks, a response answers with the highest rid received when it differs.
  CHECK(second.body().find("id='m2'") != std::string::npos);
  b.advance_seconds(3);
  auto& forged = b.post(Engine::req(sid, 1003, "", "key='" + k[0] + "'"));
  CHECK(Engine::attr(forged.body(), "condition") == "item-not-found");
}

TEST_CASE("a session that ended before the move still tells the client why") {
  Engine a;
  Engine b;
  const std::string sid = a.open_session();
  a.upstreams.events->upstream_closed(
      engine::UpstreamEnd::kStreamError,
      "<stream:error><conflict xmlns='urn:ietf:params:xml:ns:xmpp-streams'/></stream:error>");
  move(a, b, sid);
  auto& next = b.post(Engine::req(sid, 1001));
  REQUIRE(next.answered());
  CHECK(Engine::attr(next.body(), "condition") == "remote-stream-error");
  CHECK(next.body().find("conflict") != std::string::npos);
  b.table->collect();
  CHECK(b.table->size() == 0);
}
