// RFC 7395 framing (ws/xmpp_framing.hpp): reading client messages, writing <open/>,
// <close/> and stream errors, and the namespace rule for server elements.
#include <doctest/doctest.h>

#include "ws/xmpp_framing.hpp"

using namespace sb;
using Kind = ws::ClientMessage::Kind;

TEST_CASE("the client's <open/>") {
  const auto m = ws::read_client_message(
      "<open xmlns='urn:ietf:params:xml:ns:xmpp-framing' to='example.com' version='1.0' "
      "xml:lang='en'/>");
  REQUIRE(m.kind == Kind::kOpen);
  CHECK(m.target.to == "example.com");
  CHECK(m.target.version == "1.0");
  CHECK(m.target.lang == "en");
  const auto prefixed = ws::read_client_message(
      "<f:open xmlns:f='urn:ietf:params:xml:ns:xmpp-framing' to='x.example'/>");
  CHECK(prefixed.kind == Kind::kOpen);
  CHECK(prefixed.target.to == "x.example");
}

TEST_CASE("the client's <close/>, see-other-uri ignored") {
  CHECK(ws::read_client_message("<close xmlns='urn:ietf:params:xml:ns:xmpp-framing'/>").kind ==
        Kind::kClose);
  CHECK(ws::read_client_message(
            "<close xmlns='urn:ietf:params:xml:ns:xmpp-framing' see-other-uri='wss://x/'/>")
            .kind == Kind::kClose);
}

TEST_CASE("a stanza is forwarded with its namespace") {
  const auto m = ws::read_client_message(
      "<message xmlns='jabber:client' to='b@example.com' type='chat'><body>hi &amp; "
      "bye</body></message>");
  REQUIRE(m.kind == Kind::kStanza);
  CHECK(m.stanza ==
        "<message xmlns=\"jabber:client\" to=\"b@example.com\" type=\"chat\"><body>hi &amp; "
        "bye</body></message>");
  // One that forgot it gets jabber:client, as over BOSH.
  CHECK(ws::read_client_message("<presence/>").stanza == "<presence xmlns=\"jabber:client\"/>");
  // SASL keeps its own.
  CHECK(ws::read_client_message(
            "<auth xmlns='urn:ietf:params:xml:ns:xmpp-sasl' mechanism='PLAIN'>AGEAYg==</auth>")
            .stanza ==
        "<auth xmlns=\"urn:ietf:params:xml:ns:xmpp-sasl\" mechanism=\"PLAIN\">AGEAYg==</auth>");
  // Surrounding whitespace is not text outside the element.
  CHECK(ws::read_client_message("\n <presence xmlns='jabber:client'/>\n").kind == Kind::kStanza);
}

TEST_CASE("whitespace alone is ignored") {
  CHECK(ws::read_client_message("").kind == Kind::kBlank);
  CHECK(ws::read_client_message(" \r\n\t").kind == Kind::kBlank);
}

TEST_CASE("one message, one element: anything else is a stream error") {
  struct Case {
    const char* text;
    std::string_view condition;
  };
  for (const Case& c : {
           Case{"<presence xmlns='jabber:client'/><presence xmlns='jabber:client'/>",
                "not-well-formed"},
           Case{"hello <presence xmlns='jabber:client'/>", "not-well-formed"},
           Case{"<presence xmlns='jabber:client'/> trailing", "not-well-formed"},
           Case{"<message xmlns='jabber:client'><body>cut", "not-well-formed"},
           Case{"<a:b/>", "not-well-formed"},  // unbound prefix
           Case{"</body><body>", "not-well-formed"},
           Case{"<!DOCTYPE x><x/>", "restricted-xml"},
           Case{"<message xmlns='jabber:client'>&custom;</message>", "restricted-xml"},
           Case{"plain text", "not-well-formed"},
           Case{"<open xmlns='urn:ietf:params:xml:ns:xmpp-framing'/><close "
                "xmlns='urn:ietf:params:xml:ns:xmpp-framing'/>",
                "not-well-formed"},
           Case{"<reopen xmlns='urn:ietf:params:xml:ns:xmpp-framing'/>", "unsupported-stanza-type"},
       }) {
    const auto m = ws::read_client_message(c.text);
    CHECK_MESSAGE(m.kind == Kind::kError, c.text);
    CHECK_MESSAGE(m.condition == c.condition, c.text);
    CHECK(!m.what.empty());
  }
}

TEST_CASE("deep nesting is refused before a DOM is built") {
  std::string deep;
  for (int i = 0; i < 100; ++i) deep += "<x>";
  for (int i = 0; i < 100; ++i) deep += "</x>";
  CHECK(ws::read_client_message(deep).condition == "policy-violation");
}

TEST_CASE("the server's <open/> from its stream header") {
  CHECK(ws::server_open({"++TR84Sm6A3hnt3Q065SnAbbk3Y=", "example.com", "1.0"}, "en") ==
        "<open xmlns='urn:ietf:params:xml:ns:xmpp-framing' from='example.com' "
        "id='++TR84Sm6A3hnt3Q065SnAbbk3Y=' version='1.0' xml:lang='en'/>");
  CHECK(ws::server_open({"a'b", "", ""}, "") ==
        "<open xmlns='urn:ietf:params:xml:ns:xmpp-framing' id='a&apos;b' version='1.0'/>");
}

TEST_CASE("<close/> and stream errors as RFC 7395 writes them") {
  CHECK(ws::close_element() == "<close xmlns='urn:ietf:params:xml:ns:xmpp-framing'/>");
  CHECK(ws::stream_error("not-well-formed") ==
        "<stream:error xmlns:stream='http://etherx.jabber.org/streams'>"
        "<not-well-formed xmlns='urn:ietf:params:xml:ns:xmpp-streams'/></stream:error>");
}
