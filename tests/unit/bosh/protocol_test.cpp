// The optional XEP-0124 mechanisms: acknowledgements and reports (§9), key
// sequencing (§15), overactivity (§11) and polling sessions (§12).
#include <doctest/doctest.h>

#include "bosh/key_chain.hpp"
#include "engine_fixture.hpp"

using sb::test::Engine;

namespace {
// K(1) = sha1(seed), K(i) = sha1(K(i-1)); returns K(1..n).
std::vector<std::string> key_chain(const std::string& seed, int n) {
  std::vector<std::string> keys{sb::bosh::sha1_hex(seed)};
  while (static_cast<int>(keys.size()) < n) keys.push_back(sb::bosh::sha1_hex(keys.back()));
  return keys;
}
}  // namespace

TEST_CASE("A1: with ack='1' the creation response carries ack=rid, later ones the highest rid") {
  Engine e;
  auto& create = e.post(
      "<body xmlns='http://jabber.org/protocol/httpbind' rid='1000' to='example.com' ver='1.6' "
      "ack='1'/>");
  e.upstreams.server_opens();
  CHECK(Engine::attr(create.body(), "ack") == "1000");
  const std::string sid = Engine::attr(create.body(), "sid");
  auto& first = e.post(Engine::req(sid, 1001));
  auto& second = e.post(Engine::req(sid, 1002, "<presence xmlns='jabber:client'/>"));
  REQUIRE(first.answered());
  CHECK(Engine::attr(first.body(), "ack") == "1002");  // differs from the rid answered
  e.upstreams.server_sends("<message xmlns='jabber:client'/>");
  REQUIRE(second.answered());
  CHECK(Engine::attr(second.body(), "ack").empty());  // equal to its own rid: omitted
}

TEST_CASE("without ack='1' no response carries ack") {
  Engine e;
  auto sid = e.open_session();
  auto& poll = e.post(Engine::req(sid, 1001));
  e.post(Engine::req(sid, 1002, "<presence xmlns='jabber:client'/>"));
  CHECK(Engine::attr(poll.body(), "ack").empty());
}

TEST_CASE("A2: with acks every unacknowledged response stays cached, acks trim the cache") {
  Engine e;
  auto sid = e.open_session("wait='60' hold='1' ack='1'");
  std::vector<sb::test::FakeExchange*> polls;
  for (std::uint64_t rid = 1001; rid <= 1006; ++rid) {
    e.advance_seconds(2.5);
    polls.push_back(&e.post(Engine::req(sid, rid, "", "ack='1000'")));
    e.upstreams.server_sends("<message xmlns='jabber:client' id='m" + std::to_string(rid) + "'/>");
  }
  // Far more than `requests` responses, but none acknowledged: 1001 still comes back.
  auto& late = e.post(Engine::req(sid, 1001));
  CHECK(late.body() == polls[0]->body());
  CHECK(e.table->size() == 1);
  // Acknowledge up to 1004: those are dropped, 1005 is kept.
  e.advance_seconds(2.5);
  e.post(Engine::req(sid, 1007, "", "ack='1004'"));
  auto& gone = e.post(Engine::req(sid, 1003));
  CHECK(Engine::attr(gone.body(), "condition") == "item-not-found");
}

TEST_CASE("A3: a response the client still lacks a while after it was sent is reported") {
  Engine e;
  auto sid = e.open_session("wait='60' hold='1' ack='1'");
  auto& poll = e.post(Engine::req(sid, 1001, "", "ack='1000'"));
  e.upstreams.server_sends("<message xmlns='jabber:client' id='lost'/>");
  REQUIRE(poll.answered());  // ...but the client never got it
  e.advance_seconds(3);
  auto& next = e.post(Engine::req(sid, 1002, "", "ack='1000'"));
  REQUIRE(next.answered());  // at once, not held
  CHECK(Engine::attr(next.body(), "report") == "1001");
  CHECK(std::stoi(Engine::attr(next.body(), "time")) >= 3000);
  // The client resends 1001 and gets the lost message.
  auto& resend = e.post(Engine::req(sid, 1001, "", "ack='1000'"));
  CHECK(resend.body().find("id='lost'") != std::string::npos);
}

TEST_CASE("K: key sequencing accepts the chain, rekeying, and ends the session on a bad key") {
  const auto k = key_chain("seed", 5);  // k[0] = K(1) ... k[4] = K(5)
  Engine e;
  auto& create = e.post(
      "<body xmlns='http://jabber.org/protocol/httpbind' rid='1000' to='example.com' "
      "ver='1.6' newkey='" +
      k[4] + "'/>");
  e.upstreams.server_opens();
  const std::string sid = Engine::attr(create.body(), "sid");
  e.advance_seconds(3);
  auto& ok =
      e.post(Engine::req(sid, 1001, "<presence xmlns='jabber:client'/>", "key='" + k[3] + "'"));
  CHECK_FALSE(ok.answered());
  // Upper-case hex is the same key (§15: case-insensitive).
  std::string upper = k[2];
  for (auto& c : upper) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  e.post(Engine::req(sid, 1002, "<presence xmlns='jabber:client' id='2'/>", "key='" + upper + "'"));
  CHECK(e.upstreams.log.sent.size() == 2);
  // Rekey: K(2) of the old chain with K(3) of a new one.
  const auto fresh = key_chain("other", 3);
  e.advance_seconds(3);
  e.post(Engine::req(sid, 1003, "<presence xmlns='jabber:client' id='3'/>",
                     "key='" + k[1] + "' newkey='" + fresh[2] + "'"));
  e.advance_seconds(3);
  e.post(
      Engine::req(sid, 1004, "<presence xmlns='jabber:client' id='4'/>", "key='" + fresh[1] + "'"));
  CHECK(e.upstreams.log.sent.size() == 4);
  CHECK(e.table->size() == 1);
  // A request with a wrong key is not processed and ends the session.
  e.advance_seconds(3);
  auto& forged = e.post(
      Engine::req(sid, 1005, "<message xmlns='jabber:client' id='evil'/>", "key='" + k[0] + "'"));
  CHECK(Engine::attr(forged.body(), "condition") == "item-not-found");
  CHECK(e.upstreams.log.sent.size() == 4);
  CHECK(e.table->size() == 0);
}

TEST_CASE("K: a missing key ends a keyed session, a repeat skips the key check") {
  const auto k = key_chain("seed", 3);
  Engine e;
  auto& create = e.post(
      "<body xmlns='http://jabber.org/protocol/httpbind' rid='1000' to='example.com' "
      "ver='1.6' newkey='" +
      k[2] + "'/>");
  e.upstreams.server_opens();
  const std::string sid = Engine::attr(create.body(), "sid");
  auto& poll = e.post(Engine::req(sid, 1001, "", "key='" + k[1] + "'"));
  e.upstreams.server_sends("<message xmlns='jabber:client'/>");
  auto& repeat = e.post(Engine::req(sid, 1001, "", "key='" + k[1] + "'"));
  CHECK(repeat.body() == poll.body());
  auto& nokey = e.post(Engine::req(sid, 1002));
  CHECK(Engine::attr(nokey.body(), "condition") == "item-not-found");
  CHECK(e.table->size() == 0);
}

TEST_CASE("R9: more simultaneous requests than `requests` is a policy violation") {
  Engine e;
  auto sid = e.open_session();                                          // hold=1, requests=2
  e.post(Engine::req(sid, 1001));                                       // held
  e.post(Engine::req(sid, 1003, "<presence xmlns='jabber:client'/>"));  // early: 2 outstanding
  auto& third = e.post(Engine::req(sid, 1002, "<presence xmlns='jabber:client'/>"));
  CHECK(Engine::attr(third.body(), "condition") == "policy-violation");
  CHECK(e.table->size() == 0);
}

TEST_CASE("R9: one more than `requests` is allowed to terminate") {
  Engine e;
  auto sid = e.open_session();
  e.post(Engine::req(sid, 1001));
  e.post(Engine::req(sid, 1003, "<presence xmlns='jabber:client'/>"));
  auto& bye = e.post(Engine::req(sid, 1002, "", "type='terminate'"));
  CHECK(Engine::attr(bye.body(), "condition") != "policy-violation");
}

TEST_CASE("R10: empty polls faster than `polling` while all requests are used") {
  Engine e;
  auto sid = e.open_session();
  e.advance_seconds(3);
  e.post(Engine::req(sid, 1001));
  e.advance_seconds(0.5);
  auto& second = e.post(Engine::req(sid, 1002));
  CHECK(Engine::attr(second.body(), "condition") == "policy-violation");
  CHECK(e.table->size() == 0);
}

TEST_CASE("R10: the same polls slower than `polling` are fine") {
  Engine e;
  auto sid = e.open_session();
  e.advance_seconds(3);
  auto& first = e.post(Engine::req(sid, 1001));
  e.advance_seconds(2.5);
  e.post(Engine::req(sid, 1002));
  CHECK(first.answered());
  CHECK(Engine::attr(first.body(), "condition").empty());
  CHECK(e.table->size() == 1);
}

TEST_CASE("R11/§12: a polling session (hold=0) is answered at once, polls too fast end it") {
  Engine e;
  auto sid = e.open_session("wait='60' hold='0'");
  e.advance_seconds(3);
  auto& poll = e.post(Engine::req(sid, 1001));
  CHECK(poll.answered());  // never held
  e.advance_seconds(2.5);
  auto& slow = e.post(Engine::req(sid, 1002));
  CHECK(Engine::attr(slow.body(), "condition").empty());
  e.advance_seconds(0.5);
  auto& fast = e.post(Engine::req(sid, 1003));
  CHECK(Engine::attr(fast.body(), "condition") == "policy-violation");
}

TEST_CASE("R11: a fast poll after a response that carried data is fine") {
  Engine e;
  auto sid = e.open_session("wait='60' hold='0'");
  e.advance_seconds(3);
  e.upstreams.server_sends("<message xmlns='jabber:client'/>");
  auto& poll = e.post(Engine::req(sid, 1001));
  CHECK(poll.body().find("<message") != std::string::npos);
  e.advance_seconds(0.5);
  auto& again = e.post(Engine::req(sid, 1002));
  CHECK(Engine::attr(again.body(), "condition").empty());
  CHECK(e.table->size() == 1);
}

TEST_CASE("sha1_hex matches a known vector") {
  CHECK(sb::bosh::sha1_hex("abc") == "a9993e364706816aba3e25717850c26c9cd0d89d");
}

TEST_CASE("R14 before R9: resending a request that waits for a gap is not overactivity") {
  Engine e;
  e.settings.max_hold = 2;
  auto sid = e.open_session("wait='60' hold='2'");  // requests=3
  e.post(Engine::req(sid, 1001));                   // held
  e.post(Engine::req(sid, 1002));                   // held
  auto& first =
      e.post(Engine::req(sid, 1004, "<presence xmlns='jabber:client'/>"));  // early: 3 outstanding
  auto& resend = e.post(Engine::req(sid, 1004, "<presence xmlns='jabber:client'/>"));
  CHECK(Engine::attr(first.body(), "type") == "error");  // recoverable, R14
  CHECK_FALSE(resend.answered());
  CHECK(e.table->size() == 1);
}
