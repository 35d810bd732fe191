// The fix-ups that make server elements fit inside <body/>: one test per rule, plus
// the elements real servers send that must come through untouched.
#include <doctest/doctest.h>

#include <string>

#include "xml/namespace_fixup.hpp"

using namespace sb::xml;

namespace {

const std::string kProsodyHeader =
    "<stream:stream xmlns='jabber:client' xml:lang='en' "
    "xmlns:stream='http://etherx.jabber.org/streams' id='c29b' version='1.0' from='localhost'>";

std::string fix(std::string element, const StreamNamespaces& ns = {}) {
  return fix_server_element(std::move(element), ns);
}

}  // namespace

TEST_CASE("stream namespaces are read from the header") {
  const StreamNamespaces plain = read_stream_namespaces(kProsodyHeader);
  CHECK(plain.default_ns == "jabber:client");
  CHECK(plain.stream_prefix == "stream");
  CHECK(plain.other_prefixes.empty());

  const StreamNamespaces odd = read_stream_namespaces(
      "<s:stream xmlns:s=\"http://etherx.jabber.org/streams\" xmlns=\"jabber:client\" "
      "xmlns:db='jabber:server:dialback' xmlns:x='urn:a&amp;b' version='1.0'>");
  CHECK(odd.default_ns == "jabber:client");
  CHECK(odd.stream_prefix == "s");
  REQUIRE(odd.other_prefixes.size() == 2);
  CHECK(odd.other_prefixes[0] ==
        std::pair<std::string, std::string>{"db", "jabber:server:dialback"});
  CHECK(odd.other_prefixes[1] == std::pair<std::string, std::string>{"x", "urn:a&b"});

  const StreamNamespaces no_default =
      read_stream_namespaces("<stream:stream xmlns:stream='http://etherx.jabber.org/streams'>");
  CHECK(no_default.default_ns == "jabber:client");
}

TEST_CASE("an unprefixed element without xmlns gets the stream's default namespace") {
  CHECK(fix("<iq type='result' id='sess_1'/>") ==
        "<iq xmlns='jabber:client' type='result' id='sess_1'/>");
  CHECK(fix("<message to='a>b'><body>x</body></message>") ==
        "<message xmlns='jabber:client' to='a>b'><body>x</body></message>");
  CHECK(fix("<presence/>") == "<presence xmlns='jabber:client'/>");
  StreamNamespaces component;
  component.default_ns = "jabber:component:accept";
  CHECK(fix("<message/>", component) == "<message xmlns='jabber:component:accept'/>");
}

TEST_CASE("elements that need nothing come back unchanged and uncopied") {
  const std::string samples[] = {
      "<iq type='result' xmlns='jabber:client' id='bind_1'><bind "
      "xmlns='urn:ietf:params:xml:ns:xmpp-bind'><jid>u1@localhost/curl</jid></bind></iq>",
      "<success xmlns='urn:ietf:params:xml:ns:xmpp-sasl'/>",
      // ejabberd features: every unprefixed child declares its own namespace.
      "<stream:features><bind xmlns='urn:ietf:params:xml:ns:xmpp-bind'/><session "
      "xmlns='urn:ietf:params:xml:ns:xmpp-session'><optional/></session></stream:features>",
      "<stream:error><conflict xmlns='urn:ietf:params:xml:ns:xmpp-streams'/></stream:error>",
  };
  const StreamNamespaces ns = read_stream_namespaces(kProsodyHeader);
  for (const std::string& sample : samples) {
    std::string element = sample;
    const char* storage = element.data();
    const std::string fixed = fix_server_element(std::move(element), ns);
    CHECK(fixed == sample);
    CHECK(fixed.data() == storage);
  }
}

TEST_CASE("a prefixed element gets xmlns when a descendant inherits the default namespace") {
  CHECK(fix("<stream:features><register/></stream:features>") ==
        "<stream:features xmlns='jabber:client'><register/></stream:features>");
  // Covered by a declaring ancestor: nothing to do.
  CHECK(fix("<stream:features><a xmlns='urn:a'><b/></a><c xmlns='urn:c'/></stream:features>") ==
        "<stream:features><a xmlns='urn:a'><b/></a><c xmlns='urn:c'/></stream:features>");
  // Coverage ends with the declaring element.
  CHECK(fix("<stream:features><a xmlns='urn:a'><b/></a><c/></stream:features>") ==
        "<stream:features xmlns='jabber:client'><a xmlns='urn:a'><b/></a><c/></stream:features>");
}

TEST_CASE("a stream prefix other than 'stream' is renamed to stream:") {
  const StreamNamespaces ns = read_stream_namespaces(
      "<s:stream xmlns='jabber:client' xmlns:s='http://etherx.jabber.org/streams'>");
  CHECK(fix("<s:features><mechanisms xmlns='urn:ietf:params:xml:ns:xmpp-sasl'>"
            "<mechanism>PLAIN</mechanism></mechanisms></s:features>",
            ns) ==
        "<stream:features><mechanisms xmlns='urn:ietf:params:xml:ns:xmpp-sasl'>"
        "<mechanism>PLAIN</mechanism></mechanisms></stream:features>");
  CHECK(
      fix("<s:error><host-unknown xmlns='urn:ietf:params:xml:ns:xmpp-streams'/></s:error >", ns) ==
      "<stream:error><host-unknown xmlns='urn:ietf:params:xml:ns:xmpp-streams'/></stream:error >");
  CHECK(fix("<s:features/>", ns) == "<stream:features/>");
  // A descendant still using the old prefix needs it declared.
  CHECK(
      fix("<s:error><s:text>x</s:text></s:error>", ns) ==
      "<stream:error xmlns:s='http://etherx.jabber.org/streams'><s:text>x</s:text></stream:error>");
  // Unprefixed elements of that stream just get the default namespace.
  CHECK(fix("<iq id='1'/>", ns) == "<iq xmlns='jabber:client' id='1'/>");
}

TEST_CASE("header prefixes an element relies on are re-declared on it") {
  const StreamNamespaces ns = read_stream_namespaces(
      "<stream:stream xmlns='jabber:client' xmlns:stream='http://etherx.jabber.org/streams' "
      "xmlns:db='jabber:server:dialback' xmlns:x='urn:x'>");
  CHECK(fix("<db:result from='a' to='b'/>", ns) ==
        "<db:result xmlns:db='jabber:server:dialback' from='a' to='b'/>");
  CHECK(fix("<message xmlns='jabber:client'><x:y/></message>", ns) ==
        "<message xmlns:x='urn:x' xmlns='jabber:client'><x:y/></message>");
  CHECK(fix("<message><body x:attr='1'>hi</body></message>", ns) ==
        "<message xmlns='jabber:client' xmlns:x='urn:x'><body x:attr='1'>hi</body></message>");
  // Already declared on the element: nothing to add.
  CHECK(fix("<message xmlns='jabber:client' xmlns:x='urn:other'><x:y/></message>", ns) ==
        "<message xmlns='jabber:client' xmlns:x='urn:other'><x:y/></message>");
  // Prefix-looking text in CDATA, comments or text is not a use.
  CHECK(fix("<message xmlns='jabber:client'><body><![CDATA[<x:y/>]]> x:y <!-- <db:z/> "
            "--></body></message>",
            ns) ==
        "<message xmlns='jabber:client'><body><![CDATA[<x:y/>]]> x:y <!-- <db:z/> "
        "--></body></message>");
  // xml: is always bound.
  CHECK(fix("<message xmlns='jabber:client' xml:lang='en'/>", ns) ==
        "<message xmlns='jabber:client' xml:lang='en'/>");
}

TEST_CASE("strip_starttls removes a required STARTTLS offer and says so") {
  std::string features =
      "<stream:features><starttls xmlns='urn:ietf:params:xml:ns:xmpp-tls'><required/></starttls>"
      "<mechanisms xmlns='urn:ietf:params:xml:ns:xmpp-sasl'><mechanism>PLAIN</mechanism>"
      "</mechanisms></stream:features>";
  CHECK(strip_starttls(features));
  CHECK(features ==
        "<stream:features><mechanisms xmlns='urn:ietf:params:xml:ns:xmpp-sasl'>"
        "<mechanism>PLAIN</mechanism></mechanisms></stream:features>");
}

TEST_CASE("strip_starttls removes an optional offer, empty or not, and returns false") {
  std::string empty_offer =
      "<stream:features><starttls "
      "xmlns=\"urn:ietf:params:xml:ns:xmpp-tls\"/><bind/></stream:features>";
  CHECK_FALSE(strip_starttls(empty_offer));
  CHECK(empty_offer == "<stream:features><bind/></stream:features>");

  std::string open_offer =
      "<stream:features><bind/><starttls "
      "xmlns='urn:ietf:params:xml:ns:xmpp-tls'></starttls></stream:features>";
  CHECK_FALSE(strip_starttls(open_offer));
  CHECK(open_offer == "<stream:features><bind/></stream:features>");

  std::string prefixed =
      "<stream:features xmlns:tls='urn:ietf:params:xml:ns:xmpp-tls'><tls:starttls><tls:required/>"
      "</tls:starttls></stream:features>";
  CHECK(strip_starttls(prefixed));
  CHECK(prefixed ==
        "<stream:features xmlns:tls='urn:ietf:params:xml:ns:xmpp-tls'></stream:features>");
}

TEST_CASE("strip_starttls leaves features without a STARTTLS offer alone") {
  const std::string original =
      "<stream:features><mechanisms xmlns='urn:ietf:params:xml:ns:xmpp-sasl'>"
      "<mechanism>PLAIN</mechanism></mechanisms><x><starttls "
      "xmlns='urn:ietf:params:xml:ns:xmpp-tls'/></x>"
      "<starttls xmlns='urn:other'/></stream:features>";
  std::string features = original;
  CHECK_FALSE(strip_starttls(features));
  CHECK(features == original);
}

TEST_CASE("declare_stream_prefix: an element standing alone declares the stream prefix it uses") {
  CHECK(
      declare_stream_prefix(
          "<stream:features><bind xmlns='urn:ietf:params:xml:ns:xmpp-bind'/></stream:features>") ==
      "<stream:features xmlns:stream='http://etherx.jabber.org/streams'><bind "
      "xmlns='urn:ietf:params:xml:ns:xmpp-bind'/></stream:features>");
  CHECK(
      declare_stream_prefix(
          "<stream:error><conflict xmlns='urn:ietf:params:xml:ns:xmpp-streams'/></stream:error>") ==
      "<stream:error xmlns:stream='http://etherx.jabber.org/streams'><conflict "
      "xmlns='urn:ietf:params:xml:ns:xmpp-streams'/></stream:error>");
  // Already declared, or not used: unchanged.
  const std::string declared = "<stream:features xmlns:stream='http://etherx.jabber.org/streams'/>";
  CHECK(declare_stream_prefix(std::string(declared)) == declared);
  const std::string message = "<message xmlns='jabber:client'><body>hi</body></message>";
  CHECK(declare_stream_prefix(std::string(message)) == message);
}

TEST_CASE(
    "declare_stream_prefix after fix_server_element: a renamed stream prefix is declared too") {
  const StreamNamespaces ns = read_stream_namespaces(
      "<s:stream xmlns='jabber:client' xmlns:s='http://etherx.jabber.org/streams' version='1.0'>");
  const std::string fixed = fix_server_element(
      "<s:features><bind xmlns='urn:ietf:params:xml:ns:xmpp-bind'/></s:features>", ns);
  CHECK(fixed ==
        "<stream:features><bind xmlns='urn:ietf:params:xml:ns:xmpp-bind'/></stream:features>");
  CHECK(declare_stream_prefix(std::string(fixed)) ==
        "<stream:features xmlns:stream='http://etherx.jabber.org/streams'><bind "
        "xmlns='urn:ietf:params:xml:ns:xmpp-bind'/></stream:features>");
}
