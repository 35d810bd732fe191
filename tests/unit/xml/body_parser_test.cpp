// parse_body on the bodies real clients sent (from the Prosody and ejabberd
// transcripts in /work/shared/transcripts), on unusual but valid bodies, and on one
// input per BodyError.
#include <doctest/doctest.h>

#include <set>
#include <string>

#include "xml/body_parser.hpp"

using namespace sb::xml;

namespace {

BoshBody parse_ok(std::string_view bytes) {
  BoshBody body;
  const BodyError error = parse_body(bytes, body);
  INFO(bytes);
  REQUIRE(body_error_text(error) == body_error_text(BodyError::kNone));
  return body;
}

BodyError error_of(std::string_view bytes, const BodyLimits& limits = {}) {
  BoshBody body;
  return parse_body(bytes, body, limits);
}

std::string attr(const BoshBody& body, std::string_view name) {
  const std::string* value = body.attribute(name);
  return value != nullptr ? *value : std::string("<absent>");
}

}  // namespace

TEST_CASE("session creation request (Prosody transcript)") {
  const BoshBody body = parse_ok(
      "<body content='text/xml; charset=utf-8' hold='1' rid='632192905' to='localhost' ver='1.6' "
      "wait='5' xml:lang='en' xmpp:version='1.0' xmlns='http://jabber.org/protocol/httpbind' "
      "xmlns:xmpp='urn:xmpp:xbosh'/>");
  CHECK(attr(body, "content") == "text/xml; charset=utf-8");
  CHECK(attr(body, "hold") == "1");
  CHECK(attr(body, "rid") == "632192905");
  CHECK(attr(body, "to") == "localhost");
  CHECK(attr(body, "ver") == "1.6");
  CHECK(attr(body, "wait") == "5");
  CHECK(attr(body, "xml:lang") == "en");
  CHECK(attr(body, "xmpp:version") == "1.0");
  CHECK(attr(body, "sid") == "<absent>");
  CHECK(attr(body, "xmlns") == "<absent>");  // declarations are not attributes
  CHECK(body.attributes.size() == 8);
  CHECK(body.payload.empty());
  CHECK(body.payload_elements == 0);
}

TEST_CASE("SASL auth request (ejabberd transcript)") {
  const BoshBody body = parse_ok(
      "<body rid='4449701' sid='953fc3ecce5301e67399961b7b23f90cf083c1d5' "
      "xmlns='http://jabber.org/protocol/httpbind'><auth xmlns='urn:ietf:params:xml:ns:xmpp-sasl' "
      "mechanism='PLAIN'>AGFsaWNlAHNlY3JldA==</auth></body>");
  CHECK(attr(body, "sid") == "953fc3ecce5301e67399961b7b23f90cf083c1d5");
  CHECK(body.payload ==
        "<auth xmlns=\"urn:ietf:params:xml:ns:xmpp-sasl\" "
        "mechanism=\"PLAIN\">AGFsaWNlAHNlY3JldA==</auth>");
  CHECK(body.payload_elements == 1);
}

TEST_CASE("stream restart request (ejabberd transcript)") {
  const BoshBody body = parse_ok(
      "<body rid='4449702' sid='953fc3ecce5301e67399961b7b23f90cf083c1d5' to='localhost' "
      "xml:lang='en' xmpp:restart='true' xmlns:xmpp='urn:xmpp:xbosh' "
      "xmlns='http://jabber.org/protocol/httpbind'/>");
  CHECK(attr(body, "xmpp:restart") == "true");
  CHECK(attr(body, "to") == "localhost");
  CHECK(body.payload.empty());
}

TEST_CASE("resource bind request (Prosody transcript)") {
  const BoshBody body = parse_ok(
      "<body rid='632192908' sid='c29b9c34-4d22-4130-9305-78536fe3d46b' "
      "xmlns='http://jabber.org/protocol/httpbind'><iq type='set' id='bind_1' "
      "xmlns='jabber:client'>"
      "<bind "
      "xmlns='urn:ietf:params:xml:ns:xmpp-bind'><resource>curl</resource></bind></iq></body>");
  CHECK(body.payload ==
        "<iq type=\"set\" id=\"bind_1\" xmlns=\"jabber:client\"><bind "
        "xmlns=\"urn:ietf:params:xml:ns:xmpp-bind\"><resource>curl</resource></bind></iq>");
}

TEST_CASE("roster get and presence: two payload elements (Prosody transcript)") {
  const BoshBody body = parse_ok(
      "<body rid='632192910' sid='c29b9c34-4d22-4130-9305-78536fe3d46b' "
      "xmlns='http://jabber.org/protocol/httpbind'><iq type='get' id='roster_1' "
      "xmlns='jabber:client'><query xmlns='jabber:iq:roster'/></iq><presence "
      "xmlns='jabber:client'/></body>");
  CHECK(body.payload_elements == 2);
  CHECK(body.payload ==
        "<iq type=\"get\" id=\"roster_1\" xmlns=\"jabber:client\"><query "
        "xmlns=\"jabber:iq:roster\"/></iq>"
        "<presence xmlns=\"jabber:client\"/>");
}

TEST_CASE("terminate with unavailable presence (ejabberd transcript)") {
  const BoshBody body = parse_ok(
      "<body rid='4449709' sid='953fc3ecce5301e67399961b7b23f90cf083c1d5' type='terminate' "
      "xmlns='http://jabber.org/protocol/httpbind'><presence type='unavailable' "
      "xmlns='jabber:client'/></body>");
  CHECK(attr(body, "type") == "terminate");
  CHECK(body.payload == "<presence type=\"unavailable\" xmlns=\"jabber:client\"/>");
}

TEST_CASE("xbosh attributes are found whatever prefix the client bound") {
  const BoshBody body = parse_ok(
      "<body xmlns='http://jabber.org/protocol/httpbind' xmlns:xb='urn:xmpp:xbosh' "
      "xmlns:other='urn:other' rid='7' xb:version='1.0' xb:restart='true' other:thing='x'/>");
  CHECK(attr(body, "xmpp:version") == "1.0");
  CHECK(attr(body, "xmpp:restart") == "true");
  CHECK(attr(body, "xb:version") == "<absent>");
  CHECK(attr(body, "{urn:other}thing") == "x");

  // The "xmpp" prefix bound to something else is not xbosh.
  const BoshBody impostor = parse_ok(
      "<body xmlns='http://jabber.org/protocol/httpbind' xmlns:xmpp='urn:not-xbosh' "
      "xmpp:restart='true'/>");
  CHECK(attr(impostor, "xmpp:restart") == "<absent>");
  CHECK(attr(impostor, "{urn:not-xbosh}restart") == "true");
}

TEST_CASE("a prefixed <body/> in the httpbind namespace is a body") {
  const BoshBody body = parse_ok(
      "<hb:body xmlns:hb='http://jabber.org/protocol/httpbind' rid='9'><message "
      "to='a@b'/></hb:body>");
  CHECK(attr(body, "rid") == "9");
  CHECK(body.payload == "<message xmlns=\"jabber:client\" to=\"a@b\"/>");
}

TEST_CASE("attribute values are decoded") {
  const BoshBody body = parse_ok(
      "<body xmlns='http://jabber.org/protocol/httpbind' to='a&amp;b' route='xmpp:h&#x3a;5222'/>");
  CHECK(attr(body, "to") == "a&b");
  CHECK(attr(body, "route") == "xmpp:h:5222");
}

TEST_CASE("children relying on the httpbind default get jabber:client, others keep theirs") {
  const BoshBody body = parse_ok(
      "<body xmlns='http://jabber.org/protocol/httpbind' rid='1'>\n"
      "  <message to='a@b' type='chat'><body>hi</body></message>\n"
      "  <iq xmlns='jabber:client' type='get' id='1'/>\n"
      "  <auth xmlns='urn:ietf:params:xml:ns:xmpp-sasl' mechanism='ANONYMOUS'/>\n"
      "  <presence xmlns='http://jabber.org/protocol/httpbind'/>\n"
      "</body>");
  CHECK(body.payload_elements == 4);
  CHECK(body.payload ==
        "<message xmlns=\"jabber:client\" to=\"a@b\" type=\"chat\"><body>hi</body></message>"
        "<iq xmlns=\"jabber:client\" type=\"get\" id=\"1\"/>"
        "<auth xmlns=\"urn:ietf:params:xml:ns:xmpp-sasl\" mechanism=\"ANONYMOUS\"/>"
        "<presence xmlns=\"jabber:client\"/>");
}

TEST_CASE("prefixes declared only on <body/> are copied onto the child using them") {
  const BoshBody body = parse_ok(
      "<body xmlns='http://jabber.org/protocol/httpbind' "
      "xmlns:stream='http://etherx.jabber.org/streams' "
      "xmlns:foo='urn:foo' xmlns:unused='urn:unused'>"
      "<message xmlns='jabber:client'><foo:x foo:a='1'/></message>"
      "<iq xmlns='jabber:client' xmlns:foo='urn:own'><foo:y/></iq>"
      "<presence xmlns='jabber:client'><z xmlns:bar='urn:bar' bar:b='2'/></presence>"
      "</body>");
  CHECK(body.payload ==
        "<message xmlns=\"jabber:client\" xmlns:foo=\"urn:foo\"><foo:x foo:a=\"1\"/></message>"
        "<iq xmlns=\"jabber:client\" xmlns:foo=\"urn:own\"><foo:y/></iq>"
        "<presence xmlns=\"jabber:client\"><z xmlns:bar=\"urn:bar\" bar:b=\"2\"/></presence>");
}

TEST_CASE("re-serialization keeps text and attribute values intact, escapes included") {
  const BoshBody body = parse_ok(
      "<body xmlns='http://jabber.org/protocol/httpbind'><message xmlns='jabber:client' "
      "to='a@b' id='q&quot;&apos;&lt;&amp;'><body>a &amp; b &lt;c&gt; &quot;q&quot; &apos;s&apos; "
      "]]&gt; &#233;&#x1F600; \xC3\xA9  two  spaces\n</body><x> </x>"
      "<y><![CDATA[<raw> & ]]></y></message></body>");
  CHECK(body.payload ==
        "<message xmlns=\"jabber:client\" to=\"a@b\" id=\"q&quot;'&lt;&amp;\"><body>a &amp; b "
        "&lt;c&gt; \"q\" 's' ]]&gt; \xC3\xA9\xF0\x9F\x98\x80 \xC3\xA9  two  spaces\n</body><x> </x>"
        "<y><![CDATA[<raw> & ]]></y></message>");
  // What was sent and what is forwarded mean the same: parsing the payload back gives it again.
  const BoshBody again =
      parse_ok("<body xmlns='http://jabber.org/protocol/httpbind'>" + body.payload + "</body>");
  CHECK(again.payload == body.payload);
}

TEST_CASE("whitespace, comments and an XML declaration around the payload are fine") {
  const BoshBody body = parse_ok(
      "<?xml version='1.0' encoding='utf-8'?>\n<body xmlns='http://jabber.org/protocol/httpbind'>"
      " <!-- note --> \n\t<presence/>\r\n</body>\n");
  CHECK(body.payload == "<presence xmlns=\"jabber:client\"/>");
  CHECK(body.payload_elements == 1);
}

TEST_CASE("kNotXml: malformed, unbound prefixes, control characters") {
  for (const std::string& bad : std::vector<std::string>{
           "",
           "   ",
           "not xml at all",
           "<body rid='1' sid='x' xmlns='http://jabber.org/protocol/httpbind'><unclosed></body>",
           "<body xmlns='http://jabber.org/protocol/httpbind'>",
           "<body xmlns='http://jabber.org/protocol/httpbind'/><body "
           "xmlns='http://jabber.org/protocol/httpbind'/>",
           "<body xmlns='http://jabber.org/protocol/httpbind'/>trailing text",
           "junk<body xmlns='http://jabber.org/protocol/httpbind'/>",
           "<body xmlns='http://jabber.org/protocol/httpbind' a='<'/>",
           "<body xmlns='http://jabber.org/protocol/httpbind' rid='1' rid='2'/>",
           "<body xmlns='http://jabber.org/protocol/httpbind'><m a='1' a='1'/></body>",
           "<body xmlns='http://jabber.org/protocol/httpbind'>a & b</body>",
           "<body xmlns='http://jabber.org/protocol/httpbind'><m>a &amp b</m></body>",
           "<body xmlns='http://jabber.org/protocol/httpbind'><m>&#0;</m></body>",
           "<body xmlns='http://jabber.org/protocol/httpbind'><m>&#x1;</m></body>",
           "<body xmlns='http://jabber.org/protocol/httpbind'><m>&#xD800;</m></body>",
           "<body xmlns='http://jabber.org/protocol/httpbind'><m>\x01</m></body>",
           "<body xmlns='http://jabber.org/protocol/httpbind'><m>\xEF\xBF\xBF</m></body>",
           "<body xmlns='http://jabber.org/protocol/httpbind'><m>\0</m></body>",
           "<body xmlns='http://jabber.org/protocol/httpbind'><undeclared:m/></body>",
           "<body xmlns='http://jabber.org/protocol/httpbind'><m undeclared:a='1'/></body>",
           "<body xmlns='http://jabber.org/protocol/httpbind' undeclared:a='1'/>",
           "<body xmlns='http://jabber.org/protocol/httpbind'><m><!ELEMENT x ANY></m></body>",
           "<body xmlns='http://jabber.org/protocol/httpbind'><m><!-- unterminated</m></body>",
       }) {
    INFO(bad);
    CHECK(error_of(bad) == BodyError::kNotXml);
  }
  // An embedded NUL, which a C string literal above would have cut short.
  static constexpr char kWithNul[] = "<body xmlns='http://jabber.org/protocol/httpbind'>\0</body>";
  const std::string with_nul(kWithNul, sizeof kWithNul - 1);
  REQUIRE(with_nul.size() == 58);
  CHECK(error_of(with_nul) == BodyError::kNotXml);
}

TEST_CASE("kNotBody and kWrongNamespace") {
  CHECK(error_of("<html xmlns='http://jabber.org/protocol/httpbind'/>") == BodyError::kNotBody);
  CHECK(error_of("<stream:stream xmlns:stream='http://etherx.jabber.org/streams'/>") ==
        BodyError::kNotBody);
  CHECK(error_of("<body/>") == BodyError::kWrongNamespace);
  CHECK(error_of("<body xmlns='jabber:client'/>") == BodyError::kWrongNamespace);
  CHECK(error_of("<hb:body xmlns='http://jabber.org/protocol/httpbind' xmlns:hb='urn:x'/>") ==
        BodyError::kWrongNamespace);
}

TEST_CASE("kDoctype: a DOCTYPE, with or without an internal subset, anywhere") {
  CHECK(error_of("<!DOCTYPE body><body xmlns='http://jabber.org/protocol/httpbind'/>") ==
        BodyError::kDoctype);
  CHECK(error_of("<?xml version='1.0'?><!DOCTYPE body [<!ENTITY x 'boom'>]>"
                 "<body xmlns='http://jabber.org/protocol/httpbind'>&x;</body>") ==
        BodyError::kDoctype);
  CHECK(error_of("<body xmlns='http://jabber.org/protocol/httpbind'><!DOCTYPE x></body>") ==
        BodyError::kDoctype);
}

TEST_CASE("kEntity: any entity but the five predefined, in text or attributes") {
  CHECK(error_of("<body xmlns='http://jabber.org/protocol/httpbind'><m>&nbsp;</m></body>") ==
        BodyError::kEntity);
  CHECK(error_of("<body xmlns='http://jabber.org/protocol/httpbind' to='&xxe;'/>") ==
        BodyError::kEntity);
  CHECK(error_of("<body xmlns='http://jabber.org/protocol/httpbind'><m a=\"&ent;\"/></body>") ==
        BodyError::kEntity);
  // In CDATA and comments an ampersand is just a character.
  CHECK(error_of("<body xmlns='http://jabber.org/protocol/httpbind'><m><![CDATA[&nbsp;]]><!-- &x; "
                 "--></m></body>") == BodyError::kNone);
}

TEST_CASE("kTooDeep: nesting past the limit, <body/> counting as depth 1") {
  const auto nested = [](std::size_t depth, bool empty_innermost) {
    std::string s = "<body xmlns='http://jabber.org/protocol/httpbind'>";
    for (std::size_t i = 1; i < depth - (empty_innermost ? 1 : 0); ++i) s += "<a>";
    if (empty_innermost) s += "<e/>";
    for (std::size_t i = 1; i < depth - (empty_innermost ? 1 : 0); ++i) s += "</a>";
    return s + "</body>";
  };
  CHECK(error_of(nested(64, false)) == BodyError::kNone);
  CHECK(error_of(nested(65, false)) == BodyError::kTooDeep);
  CHECK(error_of(nested(64, true)) == BodyError::kNone);
  CHECK(error_of(nested(65, true)) == BodyError::kTooDeep);
  CHECK(error_of(nested(100000, false)) == BodyError::kTooDeep);
  CHECK(error_of(nested(3, false), BodyLimits{2}) == BodyError::kTooDeep);
}

TEST_CASE("kCharacterData: text directly inside <body/>") {
  CHECK(error_of("<body xmlns='http://jabber.org/protocol/httpbind'>hello</body>") ==
        BodyError::kCharacterData);
  CHECK(error_of("<body xmlns='http://jabber.org/protocol/httpbind'><presence/>x</body>") ==
        BodyError::kCharacterData);
  CHECK(error_of("<body xmlns='http://jabber.org/protocol/httpbind'><![CDATA[x]]></body>") ==
        BodyError::kCharacterData);
  CHECK(error_of("<body xmlns='http://jabber.org/protocol/httpbind'>&#65;</body>") ==
        BodyError::kCharacterData);
}

TEST_CASE("kInvalidUtf8: bad sequences, overlongs, surrogates, beyond U+10FFFF") {
  const std::string open = "<body xmlns='http://jabber.org/protocol/httpbind'><m>";
  const std::string close = "</m></body>";
  for (const std::string& bad : std::vector<std::string>{
           "\x80", "\xBF", "\xC0\xAF", "\xC1\xBF", "\xE0\x80\xAF", "\xE0\x9F\xBF",
           "\xF0\x80\x80\xAF", "\xF0\x8F\xBF\xBF", "\xED\xA0\x80", "\xED\xBF\xBF",
           "\xF4\x90\x80\x80", "\xF5\x80\x80\x80", "\xFF", "\xC3", "\xE2\x82", "\xF0\x9F\x98",
           "\xC3\x28"}) {
    INFO(bad.size());
    CHECK(error_of(open + bad + close) == BodyError::kInvalidUtf8);
  }
  CHECK(error_of("<body xmlns='http://jabber.org/protocol/httpbind' to='\xC3'/>") ==
        BodyError::kInvalidUtf8);
  // The edges that are valid.
  for (const std::string& good : std::vector<std::string>{
           "\xC2\x80", "\xDF\xBF", "\xE0\xA0\x80", "\xED\x9F\xBF", "\xEE\x80\x80", "\xEF\xBF\xBD",
           "\xF0\x90\x80\x80", "\xF4\x8F\xBF\xBF", "0123456789abcdef\xC3\xA9xyz"}) {
    const BoshBody body = parse_ok(open + good + close);
    CHECK(body.payload == "<m xmlns=\"jabber:client\">" + good + "</m>");
  }
}

TEST_CASE("every BodyError has its own text") {
  std::set<std::string_view> texts;
  for (BodyError e : {BodyError::kNone, BodyError::kNotXml, BodyError::kNotBody,
                      BodyError::kWrongNamespace, BodyError::kDoctype, BodyError::kEntity,
                      BodyError::kTooDeep, BodyError::kCharacterData, BodyError::kInvalidUtf8}) {
    CHECK_FALSE(body_error_text(e).empty());
    texts.insert(body_error_text(e));
  }
  CHECK(texts.size() == 9);
}

TEST_CASE("one attribute named twice through two prefixes is not namespace-well-formed") {
  CHECK(error_of("<body xmlns='http://jabber.org/protocol/httpbind' xmlns:a='urn:xmpp:xbosh' "
                 "xmlns:b='urn:xmpp:xbosh' a:version='1.0' b:version='2.0'/>") ==
        BodyError::kNotXml);
  CHECK(
      error_of(
          "<body xmlns='http://jabber.org/protocol/httpbind' xmlns:a='urn:a' xmlns:a='urn:b'/>") ==
      BodyError::kNotXml);
}

TEST_CASE("thousands of declarations and prefixed attributes cost no quadratic time") {
  // Shaped to make per-lookup scans quadratic: every prefix declared on <body/> and on
  // the child, and used by an attribute; plus an element with many plain attributes.
  constexpr int kCount = 20000;
  std::string bytes = "<body xmlns='http://jabber.org/protocol/httpbind'";
  for (int i = 0; i < kCount; ++i)
    bytes += " xmlns:p" + std::to_string(i) + "='urn:" + std::to_string(i) + "'";
  bytes += "><message";
  for (int i = 0; i < kCount; ++i)
    bytes += " p" + std::to_string(i) + ":a='1' b" + std::to_string(i) + "='2'";
  bytes += "/></body>";
  BoshBody body;
  CHECK(parse_body(bytes, body) == BodyError::kNone);
  CHECK(body.payload_elements == 1);
  CHECK(body.payload.find(" xmlns:p19999=\"urn:19999\"") != std::string::npos);
}

TEST_CASE("a carriage return written as a character reference reaches the server as one") {
  sb::xml::BoshBody body;
  REQUIRE(sb::xml::parse_body(
              "<body rid='1' xmlns='http://jabber.org/protocol/httpbind'><m>a&#13;b</m></body>",
              body) == sb::xml::BodyError::kNone);
  CHECK(body.payload == "<m xmlns=\"jabber:client\">a&#13;b</m>");
}
