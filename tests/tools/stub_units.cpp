// Unit tests of the stub's pure parts: base64 and SASL PLAIN decoding, and the
// stanza rewriting that routing relies on (stamping 'from', building bounces).
#include <doctest/doctest.h>

#include "tools/stub/sasl.hpp"
#include "tools/stub/stanzas.hpp"

namespace stub = sb::stub;

TEST_CASE("base64 decodes the RFC 4648 test vectors and refuses junk") {
  CHECK(stub::decode_base64("") == std::string());
  CHECK(stub::decode_base64("Zg==") == std::string("f"));
  CHECK(stub::decode_base64("Zm8=") == std::string("fo"));
  CHECK(stub::decode_base64("Zm9v") == std::string("foo"));
  CHECK(stub::decode_base64("Zm9vYg==") == std::string("foob"));
  CHECK(stub::decode_base64("Zm9vYmE=") == std::string("fooba"));
  CHECK(stub::decode_base64("Zm9v\nYmFy") == std::string("foobar"));
  CHECK_FALSE(stub::decode_base64("Zm9v!").has_value());
  CHECK_FALSE(stub::decode_base64("Z").has_value());
  CHECK_FALSE(stub::decode_base64("Zg==Zg").has_value());
}

TEST_CASE(
    "SASL PLAIN splits authzid, authcid and password, and the user name must be a local part") {
  using namespace std::string_literals;
  auto c = stub::parse_plain("\0alice\0secret"s);
  REQUIRE(c.has_value());
  CHECK(c->authzid.empty());
  CHECK(c->authcid == "alice");
  CHECK(c->password == "secret");
  c = stub::parse_plain("admin@x\0bob@example.org\0"s);
  REQUIRE(c.has_value());
  CHECK(c->authzid == "admin@x");
  CHECK(c->authcid == "bob");
  CHECK(c->password.empty());
  CHECK_FALSE(stub::parse_plain("alice"s).has_value());
  CHECK_FALSE(stub::parse_plain("\0alice"s).has_value());
  CHECK_FALSE(stub::parse_plain("\0\0pw"s).has_value());
  CHECK_FALSE(stub::parse_plain("\0a/b\0pw"s).has_value());
  CHECK_FALSE(stub::parse_plain("\0a b\0pw"s).has_value());
  CHECK_FALSE(stub::parse_plain("\0a\0b\0c"s).has_value());
}

TEST_CASE("stamp_from replaces or adds the sender's 'from'") {
  const std::string plain = "<message to='b@d' type='chat'><body>x</body></message>";
  CHECK(stub::stamp_from(plain, stub::read_head(plain), "a@d/r") ==
        "<message from='a@d/r' to='b@d' type='chat'><body>x</body></message>");
  const std::string spoofed = "<message to='b@d' from=\"m@d\" id='1'/>";
  const std::string stamped = stub::stamp_from(spoofed, stub::read_head(spoofed), "a&b@d");
  CHECK(stamped.find("m@d") == std::string::npos);
  CHECK(stamped.rfind("<message from='a&amp;b@d' to='b@d' ", 0) == 0);
  CHECK(stamped.find("id='1'/>") != std::string::npos);
}

TEST_CASE("bounce answers messages and iq get/set, never errors, results or presence") {
  const auto error =
      stub::bounce("<message from='a@d/r' to='x@d' id='7' type='chat'><body/></message>");
  REQUIRE(error.has_value());
  CHECK(*error ==
        "<message from='x@d' to='a@d/r' type='error' id='7'><error type='cancel'>"
        "<service-unavailable xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/></error></message>");
  CHECK(
      stub::bounce("<iq from='a@d/r' to='x@d' type='get' id='1'><ping xmlns='urn:xmpp:ping'/></iq>")
          .has_value());
  CHECK_FALSE(stub::bounce("<iq from='a@d/r' to='x@d' type='result' id='1'/>").has_value());
  CHECK_FALSE(stub::bounce("<message from='x@d' to='a@d/r' type='error'/>").has_value());
  CHECK_FALSE(stub::bounce("<presence from='a@d/r' to='x@d'/>").has_value());
}

TEST_CASE("heads, children and text are read from the raw bytes") {
  const std::string bind =
      "<iq type='set' id='b1'><bind xmlns='urn:ietf:params:xml:ns:xmpp-bind'>"
      "<resource>r&amp;1</resource></bind></iq>";
  const stub::StanzaHead head = stub::read_head(bind);
  CHECK(head.ok);
  CHECK(head.name == "iq");
  CHECK(head.type == "set");
  CHECK(head.id == "b1");
  const auto child = stub::first_child(bind);
  REQUIRE(child.has_value());
  CHECK(child->name == "bind");
  CHECK(child->xmlns == "urn:ietf:params:xml:ns:xmpp-bind");
  CHECK(stub::child_text(bind, "resource") == std::string("r&1"));
  CHECK(stub::element_text("<auth mechanism='PLAIN'>AGEAYg==</auth>") == "AGEAYg==");
  CHECK(stub::element_text("<auth mechanism='ANONYMOUS'/>").empty());
}
