// ascii_case.hpp: the one ASCII lower-casing and case-insensitive compare.
#include <doctest/doctest.h>

#include <string>

#include "base/ascii_case.hpp"

using sb::base::ascii_lower;
using sb::base::equals_ignoring_case;
using sb::base::lowercase;

TEST_CASE("ascii_lower changes A-Z only") {
  CHECK(ascii_lower('A') == 'a');
  CHECK(ascii_lower('Z') == 'z');
  CHECK(ascii_lower('a') == 'a');
  CHECK(ascii_lower('@') == '@');  // the byte before 'A'
  CHECK(ascii_lower('[') == '[');  // the byte after 'Z'
  CHECK(ascii_lower('0') == '0');
  CHECK(ascii_lower('\xC3') == '\xC3');  // a UTF-8 lead byte stays
  static_assert(ascii_lower('Q') == 'q');
}

TEST_CASE("lowercase copies the text in ASCII lower case") {
  CHECK(lowercase("Example.ORG") == "example.org");
  CHECK(lowercase("") == "");
  CHECK(lowercase("XMPP:[::1]:5222") == "xmpp:[::1]:5222");
  CHECK(lowercase("\xC3\x89t\xC3\xA9") == "\xC3\x89t\xC3\xA9");  // "Été": only ASCII changes
  CHECK(lowercase("ABCDEF0123") == "abcdef0123");
}

TEST_CASE("equals_ignoring_case compares up to ASCII case, either side") {
  CHECK(equals_ignoring_case("Upgrade", "upgrade"));
  CHECK(equals_ignoring_case("websocket", "WebSocket"));
  CHECK(equals_ignoring_case("", ""));
  CHECK_FALSE(equals_ignoring_case("https", "http"));
  CHECK_FALSE(equals_ignoring_case("http", "https"));
  CHECK_FALSE(equals_ignoring_case("chunked", "chunkee"));
  CHECK_FALSE(equals_ignoring_case("@", "`"));                // 0x40 and 0x60 are not a case pair
  CHECK_FALSE(equals_ignoring_case("\xC3\x89", "\xC3\xA9"));  // É and é: not ASCII
  static_assert(equals_ignoring_case("Host", "HOST"));
}
