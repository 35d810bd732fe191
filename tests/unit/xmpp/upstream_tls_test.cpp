// UpstreamLink with TLS, over real loopback sockets against FakeXmppServer: what
// the session hears (one header and one set of features, from the stream it will
// use), what goes in clear and what over TLS, and every way TLS can fail ending the
// session with remote-connection-failed and a reason for the log.
#include <doctest/doctest.h>

#include <memory>
#include <string>
#include <vector>

#include "net/loop_fixture.hpp"
#include "xmpp/fake_xmpp_server.hpp"
#include "xmpp/link_test_setup.hpp"
#include "xmpp/starttls.hpp"
#include "xmpp/upstream_link.hpp"

using sb::engine::StanzaFraming;
using sb::engine::UpstreamEnd;
using sb::net::test::LocalServer;
using sb::net::test::LoopFixture;
using sb::net::test::ServerContext;
using sb::net::test::TestPki;
using sb::xmpp::LinkSettings;
using sb::xmpp::TlsMode;
using sb::xmpp::UpstreamConnector;
using sb::xmpp::UpstreamLink;
using sb::xmpp::test::FakeXmppServer;
using sb::xmpp::test::has;
using sb::xmpp::test::loopback_target;
using sb::xmpp::test::Recorder;

namespace {

std::vector<std::string> g_reports;
void record_report(std::string_view message) { g_reports.emplace_back(message); }

LinkSettings link_settings(TlsMode mode, const TestPki& pki, bool verify,
                           std::uint64_t timeout_ms) {
  LinkSettings settings = sb::xmpp::test::link_settings(mode, pki, verify, timeout_ms);
  settings.report = record_report;
  return settings;
}

// Everything a test needs: PKI, fake server listening, connector, session recorder.
struct Rig {
  explicit Rig(LoopFixture& f, bool rogue_certificate = false)
      : fixture(f),
        server_ctx(pki.server_context(rogue_certificate)),
        server(server_ctx.ctx),
        listener(f, server) {
    g_reports.clear();
  }

  std::unique_ptr<sb::engine::Upstream> open(TlsMode mode, bool verify = true,
                                             std::string domain = "localhost",
                                             std::uint64_t timeout_ms = 2000,
                                             bool tls_on_loopback = true,
                                             StanzaFraming framing = StanzaFraming::kBoshBody) {
    auto settings = link_settings(mode, pki, verify, timeout_ms);
    settings.tls_on_loopback = tls_on_loopback;
    connector = std::make_unique<UpstreamConnector>(fixture.loop(), settings);
    return connector->open(loopback_target(listener.port, std::move(domain)), events, framing);
  }

  bool run_until_settled() {
    return fixture.run_until([&] { return !events.stanzas.empty() || events.closed.has_value(); });
  }

  // Closes the link (if still owned) and the listener, and lets everything finish.
  void finish(std::unique_ptr<sb::engine::Upstream> upstream) {
    if (upstream) upstream.release()->close();
    listener.listener().close();
    fixture.run();
  }

  LoopFixture& fixture;
  TestPki pki;
  ServerContext server_ctx;
  FakeXmppServer server;
  LocalServer listener;
  std::unique_ptr<UpstreamConnector> connector;
  Recorder events;
};

}  // namespace

TEST_CASE_FIXTURE(LoopFixture,
                  "auto: STARTTLS when offered, the session sees only the TLS stream") {
  Rig rig(*this);
  auto upstream = rig.open(TlsMode::kAuto);
  auto* link = static_cast<UpstreamLink*>(upstream.get());
  upstream->send("<early/>");  // before the connection is even up
  REQUIRE(rig.run_until_settled());
  REQUIRE(!rig.events.closed.has_value());

  // One header and one set of features, both from the stream inside TLS.
  REQUIRE(rig.events.opened.size() == 1);
  CHECK(rig.events.opened[0].id == "tls-2");
  REQUIRE(rig.events.stanzas.size() == 1);
  CHECK(has(rig.events.stanzas[0], "<mechanism>PLAIN</mechanism>"));
  CHECK(!has(rig.events.stanzas[0], "starttls"));
  CHECK(link->tls_state() == "tls");
  REQUIRE(link->tls_session() != nullptr);
  CHECK(link->tls_session()->protocol() == "TLSv1.3");
  CHECK(rig.server.headers == 2);
  CHECK(rig.server.tls_on());

  // In clear: the first header and <starttls/>, nothing of the session's.
  CHECK(has(rig.server.clear, "<stream:stream to='localhost'"));
  CHECK(has(rig.server.clear, std::string(sb::xmpp::kStartTlsRequest)));
  CHECK(!has(rig.server.clear, "<early/>"));
  // Over TLS: a new header, then what the session sent meanwhile.
  const std::size_t second_header = rig.server.text.rfind("<stream:stream to='localhost'");
  CHECK(second_header > rig.server.text.find("<starttls"));
  CHECK(rig.server.text.find("<early/>") > second_header);

  upstream->send("<iq id='1'/>");
  CHECK(run_until([&] { return has(rig.server.text, "<iq id='1'/>"); }));
  CHECK(!has(rig.server.clear, "<iq id='1'/>"));

  // Closing: </stream:stream> and close_notify over TLS, then the link frees itself.
  rig.finish(std::move(upstream));
  CHECK(has(rig.server.text, "<iq id='1'/></stream:stream>"));
  CHECK(rig.server.got_close_notify());
  CHECK(rig.server.closed == 1);
  CHECK(g_reports.empty());
  CHECK(sb::net::TlsSession::live_count() == 0);
}

TEST_CASE_FIXTURE(LoopFixture, "a restart after SASL goes over TLS too") {
  Rig rig(*this);
  auto upstream = rig.open(TlsMode::kRequired);
  REQUIRE(rig.run_until_settled());
  REQUIRE(rig.events.opened.size() == 1);
  upstream->restart(loopback_target(rig.listener.port));
  REQUIRE(run_until([&] { return rig.events.opened.size() == 2; }));
  CHECK(rig.events.opened[1].id == "tls-3");
  CHECK(rig.events.stanzas.size() == 2);
  CHECK(rig.server.headers == 3);
  rig.finish(std::move(upstream));
}

TEST_CASE_FIXTURE(LoopFixture, "auto without an offer stays plain and delivers at once") {
  Rig rig(*this);
  rig.server.offer = FakeXmppServer::Offer::kNone;
  auto upstream = rig.open(TlsMode::kAuto);
  upstream->send("<early/>");
  REQUIRE(rig.run_until_settled());
  REQUIRE(rig.events.opened.size() == 1);
  CHECK(rig.events.opened[0].id == "plain-1");
  CHECK(static_cast<UpstreamLink*>(upstream.get())->tls_state() == "plain");
  CHECK(run_until([&] { return has(rig.server.clear, "<early/>"); }));
  rig.finish(std::move(upstream));
  CHECK(rig.server.clear.ends_with("<early/></stream:stream>"));
}

TEST_CASE_FIXTURE(LoopFixture, "required without an offer fails the session") {
  Rig rig(*this);
  rig.server.offer = FakeXmppServer::Offer::kNone;
  auto upstream = rig.open(TlsMode::kRequired);
  REQUIRE(rig.run_until_settled());
  CHECK(rig.events.closed == UpstreamEnd::kFailed);
  CHECK(rig.events.opened.empty());
  CHECK(rig.events.stanzas.empty());
  REQUIRE(g_reports.size() == 1);
  CHECK(has(g_reports[0], "does not offer STARTTLS"));
  CHECK(has(g_reports[0], "'localhost'"));
  rig.finish(std::move(upstream));
}

TEST_CASE_FIXTURE(LoopFixture, "off: an optional offer is dropped, a required one fails") {
  SUBCASE("optional") {
    Rig rig(*this);
    auto upstream = rig.open(TlsMode::kOff);
    REQUIRE(rig.run_until_settled());
    REQUIRE(rig.events.stanzas.size() == 1);
    CHECK(!has(rig.events.stanzas[0], "starttls"));
    CHECK(has(rig.events.stanzas[0], "<mechanisms"));
    CHECK(rig.events.opened.size() == 1);
    CHECK(!has(rig.server.clear, "<starttls"));
    rig.finish(std::move(upstream));
  }
  SUBCASE("required") {
    Rig rig(*this);
    rig.server.offer = FakeXmppServer::Offer::kRequired;
    auto upstream = rig.open(TlsMode::kOff);
    REQUIRE(rig.run_until_settled());
    CHECK(rig.events.closed == UpstreamEnd::kFailed);
    CHECK(rig.events.stanzas.empty());
    REQUIRE(g_reports.size() == 1);
    CHECK(has(g_reports[0], "requires TLS"));
    rig.finish(std::move(upstream));
  }
}

TEST_CASE_FIXTURE(LoopFixture, "a <failure/> answer to <starttls/> fails the session") {
  Rig rig(*this);
  rig.server.refuse_tls = true;
  auto upstream = rig.open(TlsMode::kAuto);
  REQUIRE(rig.run_until_settled());
  CHECK(rig.events.closed == UpstreamEnd::kFailed);
  CHECK(rig.events.stanzas.empty());
  REQUIRE(g_reports.size() == 1);
  CHECK(has(g_reports[0], "refused STARTTLS"));
  rig.finish(std::move(upstream));
}

TEST_CASE_FIXTURE(LoopFixture, "a certificate that does not verify fails the session") {
  SUBCASE("not signed by the trusted CA") {
    Rig rig(*this, true);
    auto upstream = rig.open(TlsMode::kAuto);
    REQUIRE(rig.run_until_settled());
    CHECK(rig.events.closed == UpstreamEnd::kFailed);
    REQUIRE(g_reports.size() == 1);
    CHECK(has(g_reports[0], "certificate verification failed"));
    CHECK(run_until([&] { return rig.server.tls_failed(); }));  // our alert reached it
    rig.finish(std::move(upstream));
  }
  SUBCASE("for another domain") {
    Rig rig(*this);
    auto upstream = rig.open(TlsMode::kAuto, true, "example.org");
    REQUIRE(rig.run_until_settled());
    CHECK(rig.events.closed == UpstreamEnd::kFailed);
    REQUIRE(g_reports.size() == 1);
    CHECK(has(g_reports[0], "hostname mismatch"));
    rig.finish(std::move(upstream));
  }
  SUBCASE("accepted with verification off") {
    Rig rig(*this, true);
    auto upstream = rig.open(TlsMode::kAuto, false, "example.org");
    REQUIRE(rig.run_until_settled());
    CHECK(!rig.events.closed.has_value());
    CHECK(rig.events.opened.size() == 1);
    rig.finish(std::move(upstream));
  }
}

TEST_CASE_FIXTURE(LoopFixture, "direct TLS: the handshake comes first, then the one stream") {
  Rig rig(*this);
  rig.server.direct_tls = true;
  auto upstream = rig.open(TlsMode::kDirect);
  upstream->send("<early/>");
  REQUIRE(rig.run_until_settled());
  REQUIRE(!rig.events.closed.has_value());
  REQUIRE(rig.events.opened.size() == 1);
  CHECK(rig.events.opened[0].id == "tls-1");
  CHECK(!has(rig.events.stanzas[0], "starttls"));
  CHECK(rig.server.headers == 1);
  CHECK(run_until([&] { return has(rig.server.text, "<early/>"); }));
  rig.finish(std::move(upstream));
  CHECK(rig.server.got_close_notify());
}

TEST_CASE_FIXTURE(LoopFixture, "a server that never answers the handshake times out") {
  Rig rig(*this);  // speaks plain XMPP: it sees a ClientHello, not a stream header
  auto upstream = rig.open(TlsMode::kDirect, true, "localhost", 200);
  REQUIRE(rig.run_until_settled());
  CHECK(rig.events.closed == UpstreamEnd::kFailed);
  REQUIRE(g_reports.size() == 1);
  CHECK(has(g_reports[0], "TLS negotiation timed out"));
  rig.finish(std::move(upstream));
}

TEST_CASE_FIXTURE(LoopFixture, "a server that never sends its stream header times out") {
  for (TlsMode mode : {TlsMode::kOff, TlsMode::kAuto}) {
    CAPTURE(sb::xmpp::tls_mode_name(mode));
    Rig rig(*this);
    rig.server.silent = true;
    auto upstream = rig.open(mode, true, "localhost", 200);
    REQUIRE(rig.run_until_settled());
    CHECK(rig.events.closed == UpstreamEnd::kFailed);
    CHECK(rig.events.opened.empty());
    REQUIRE(g_reports.size() == 1);
    CHECK(has(g_reports[0], "no stream header in time"));
    rig.finish(std::move(upstream));
  }
}

TEST_CASE_FIXTURE(LoopFixture, "the opening deadline is over once the session has its stream") {
  Rig rig(*this);
  auto upstream = rig.open(TlsMode::kAuto, true, "localhost", 200);
  REQUIRE(rig.run_until_settled());
  REQUIRE(!rig.events.closed.has_value());
  bool waited = false;
  after(400, [&] { waited = true; });
  CHECK(run_until([&] { return waited; }));
  CHECK(!rig.events.closed.has_value());
  rig.finish(std::move(upstream));
}

TEST_CASE_FIXTURE(LoopFixture, "auto declines an optional offer from a server on loopback") {
  Rig rig(*this);
  auto upstream = rig.open(TlsMode::kAuto, true, "localhost", 2000, /*tls_on_loopback=*/false);
  auto* link = static_cast<UpstreamLink*>(upstream.get());
  REQUIRE(rig.run_until_settled());
  REQUIRE(!rig.events.closed.has_value());
  REQUIRE(rig.events.opened.size() == 1);
  REQUIRE(rig.events.stanzas.size() == 1);
  CHECK(!has(rig.events.stanzas[0], "starttls"));  // the offer is still not passed on
  CHECK(link->tls_state() == "plain");
  CHECK(!has(rig.server.clear, std::string(sb::xmpp::kStartTlsRequest)));
  CHECK(rig.server.headers == 1);
  rig.finish(std::move(upstream));
  CHECK(sb::net::TlsSession::live_count() == 0);
}

TEST_CASE_FIXTURE(LoopFixture, "elements are fixed once, for the framing the session asked for") {
  constexpr std::string_view kDeclared =
      "<stream:features xmlns:stream='http://etherx.jabber.org/streams'>";
  for (const StanzaFraming framing : {StanzaFraming::kBoshBody, StanzaFraming::kWebSocket}) {
    CAPTURE(static_cast<int>(framing));
    Rig rig(*this);
    auto upstream =
        rig.open(TlsMode::kAuto, true, "localhost", 2000, /*tls_on_loopback=*/false, framing);
    REQUIRE(rig.run_until_settled());
    REQUIRE(rig.events.stanzas.size() == 1);
    const std::string& features = rig.events.stanzas[0];
    CHECK(!has(features, "starttls"));  // removed for either transport
    CHECK(has(features, "<mechanism>PLAIN</mechanism>"));
    if (framing == StanzaFraming::kWebSocket) {
      // Alone in a message: the element declares the prefix <body/> would have.
      CHECK(features.starts_with(kDeclared));
    } else {
      CHECK(features.starts_with("<stream:features>"));
    }
    rig.finish(std::move(upstream));
  }
}
