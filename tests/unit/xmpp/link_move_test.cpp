// An UpstreamLink moved to another owner as a real move does it: its record as
// bytes, a duplicate of its socket, the old handle let go quietly, a new link
// adopting the socket. Over a real loopback socket against FakeXmppServer: the
// server must not notice, and a stanza it had half sent arrives whole.
#include <doctest/doctest.h>

#include <unistd.h>

#include <memory>
#include <string>

#include "net/loop_fixture.hpp"
#include "xmpp/fake_xmpp_server.hpp"
#include "xmpp/link_record.hpp"
#include "xmpp/link_test_setup.hpp"
#include "xmpp/upstream_link.hpp"

using sb::engine::StanzaFraming;
using sb::net::test::LocalServer;
using sb::net::test::LoopFixture;
using sb::net::test::ServerContext;
using sb::net::test::TestPki;
using sb::xmpp::LinkRecord;
using sb::xmpp::TlsMode;
using sb::xmpp::UpstreamConnector;
using sb::xmpp::UpstreamLink;
using sb::xmpp::test::FakeXmppServer;
using sb::xmpp::test::has;
using sb::xmpp::test::Recorder;

namespace {

struct MoveRig {
  explicit MoveRig(LoopFixture& f, TlsMode mode = TlsMode::kOff)
      : fixture(f),
        server_ctx(pki.server_context(false)),
        server(server_ctx.ctx),
        listener(f, server) {
    connector = std::make_unique<UpstreamConnector>(
        fixture.loop(), sb::xmpp::test::link_settings(mode, pki, true, 2000));
    target = sb::xmpp::test::loopback_target(listener.port);
  }
  // Opens a link and waits for its features.
  std::unique_ptr<UpstreamLink> open(Recorder& events, StanzaFraming framing) {
    std::unique_ptr<sb::engine::Upstream> upstream = connector->open(target, events, framing);
    REQUIRE(fixture.run_until([&] { return !events.stanzas.empty(); }));
    return std::unique_ptr<UpstreamLink>(static_cast<UpstreamLink*>(upstream.release()));
  }
  // Moves `link` through bytes and a duplicate socket to a new link that reports
  // to `events`.
  std::unique_ptr<UpstreamLink> move(std::unique_ptr<UpstreamLink> link, Recorder& events) {
    REQUIRE(link->movable());
    const std::string bytes = sb::xmpp::encode(link->record());
    const int fd = link->duplicate_socket();
    REQUIRE(fd >= 0);
    link.release()->let_go();
    uv_run(fixture.loop(), UV_RUN_NOWAIT);  // the old handle closes (its close callback)
    LinkRecord record;
    std::string error;
    REQUIRE_MESSAGE(sb::xmpp::decode(bytes, record, error), error);
    auto moved = UpstreamLink::adopt(*connector, target, events, std::move(record), fd, error);
    REQUIRE_MESSAGE(moved != nullptr, error);
    return moved;
  }
  void finish(std::unique_ptr<UpstreamLink> link) {
    if (link) link.release()->close();
    listener.listener().close();
    fixture.run();
  }

  LoopFixture& fixture;
  TestPki pki;
  ServerContext server_ctx;
  FakeXmppServer server;
  LocalServer listener;
  std::unique_ptr<UpstreamConnector> connector;
  sb::engine::UpstreamTarget target;
};

}  // namespace

TEST_CASE_FIXTURE(LoopFixture,
                  "a moved link gets the rest of a half-sent stanza, the server notices nothing") {
  MoveRig rig(*this);
  rig.server.offer = FakeXmppServer::Offer::kNone;
  Recorder before;
  auto link = rig.open(before, StanzaFraming::kBoshBody);
  rig.server.push("<message id='m1' to='a@localhost'><body>hel");
  REQUIRE(run_until([&] { return !link->record().unfinished.empty(); }));
  CHECK(link->record().unfinished == "<message id='m1' to='a@localhost'><body>hel");

  Recorder after;
  auto moved = rig.move(std::move(link), after);
  CHECK(rig.connector->live_count() == 1);
  rig.server.push("lo</body></message>");
  REQUIRE(run_until([&] { return !after.stanzas.empty(); }));
  // Whole, and fixed for a BOSH body as before the move (the stream's namespaces
  // travelled with the record).
  CHECK(after.stanzas[0] ==
        "<message xmlns='jabber:client' id='m1' to='a@localhost'><body>hello</body></message>");
  CHECK(before.stanzas.size() == 1);  // the old owner heard only the features
  CHECK_FALSE(before.closed.has_value());
  CHECK_FALSE(after.closed.has_value());

  moved->send("<presence/>");
  REQUIRE(run_until([&] { return has(rig.server.text, "<presence/>"); }));
  CHECK_FALSE(has(rig.server.text, "</stream:stream>"));  // no goodbye from the old handle
  CHECK(rig.server.closed == 0);
  rig.finish(std::move(moved));
  CHECK(rig.server.text.ends_with("<presence/></stream:stream>"));
}

TEST_CASE_FIXTURE(LoopFixture, "a link moved between stanzas keeps its WebSocket framing") {
  MoveRig rig(*this);
  rig.server.offer = FakeXmppServer::Offer::kNone;
  Recorder before;
  auto link = rig.open(before, StanzaFraming::kWebSocket);
  Recorder after;
  auto moved = rig.move(std::move(link), after);
  rig.server.push(
      "<stream:error><conflict xmlns='urn:ietf:params:xml:ns:xmpp-streams'/></stream:error>");
  REQUIRE(run_until([&] { return after.closed.has_value(); }));
  CHECK(after.closed == sb::engine::UpstreamEnd::kStreamError);
  // Alone in a WebSocket message, the stream: prefix is declared on the element.
  CHECK(has(after.detail, "xmlns:stream='http://etherx.jabber.org/streams'"));
  rig.finish(nullptr);
}

TEST_CASE_FIXTURE(LoopFixture, "a link under TLS or with bytes still to send does not move") {
  MoveRig rig(*this, TlsMode::kAuto);
  rig.server.offer = FakeXmppServer::Offer::kOptional;
  Recorder events;
  auto link = rig.open(events, StanzaFraming::kBoshBody);
  CHECK(link->tls_state() == "tls");
  CHECK_FALSE(link->movable());
  rig.finish(std::move(link));
}

TEST_CASE("a link record reads back as written, newer or damaged ones are refused") {
  LinkRecord record;
  record.framing = StanzaFraming::kWebSocket;
  record.namespaces.stream_prefix = "s";
  record.namespaces.other_prefixes = {{"db", "jabber:server:dialback"}};
  record.stream_name = "s:stream";
  record.unfinished = "<message><body>half";
  const std::string bytes = sb::xmpp::encode(record);
  LinkRecord back;
  std::string error;
  REQUIRE(sb::xmpp::decode(bytes, back, error));
  CHECK(sb::xmpp::encode(back) == bytes);
  CHECK(back.framing == StanzaFraming::kWebSocket);
  CHECK(back.namespaces.other_prefixes.at(0).second == "jabber:server:dialback");
  for (std::size_t n = 0; n < bytes.size(); ++n)
    CHECK_FALSE(sb::xmpp::decode(bytes.substr(0, n), back, error));
  std::string newer = bytes;
  newer[4] = static_cast<char>(sb::xmpp::kLinkRecordVersion + 1);
  CHECK_FALSE(sb::xmpp::decode(newer, back, error));
  CHECK(has(error, "newer than this build reads"));
}
