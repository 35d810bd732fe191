// host:port parsing: the edge cases every config address and BOSH route meets.
#include <doctest/doctest.h>

#include <string>
#include <string_view>

#include "base/host_port.hpp"

using sb::base::HostPort;
using sb::base::is_ip_literal;
using sb::base::is_valid_host_name;
using sb::base::parse_host_port;

namespace doctest {
template <>
struct StringMaker<HostPort> {
  static String convert(const HostPort& address) { return String(address.to_string().c_str()); }
};
}  // namespace doctest

TEST_CASE("host:port, IPv4 and bracketed IPv6 parse") {
  CHECK(parse_host_port("example.com:5222") == HostPort{"example.com", 5222});
  CHECK(parse_host_port("127.0.0.1:5280") == HostPort{"127.0.0.1", 5280});
  CHECK(parse_host_port("[::1]:5280") == HostPort{"::1", 5280});
  CHECK(parse_host_port("[2001:db8::7]:1") == HostPort{"2001:db8::7", 1});
  CHECK(parse_host_port("a:65535")->port == 65535);
  CHECK(parse_host_port("xmpp_internal:5222")->host == "xmpp_internal");
}

TEST_CASE("host names are lower-cased") {
  CHECK(parse_host_port("XMPP.Example.COM:5222")->host == "xmpp.example.com");
}

TEST_CASE("to_string gives back the parseable form, brackets included") {
  CHECK(HostPort{"::1", 5280}.to_string() == "[::1]:5280");
  CHECK(HostPort{"example.com", 5222}.to_string() == "example.com:5222");
  CHECK(parse_host_port(HostPort{"fe80::1", 80}.to_string()) == HostPort{"fe80::1", 80});
}

namespace {
std::string reason_for(std::string_view text) {
  std::string error;
  CHECK_FALSE(parse_host_port(text, &error).has_value());
  return error;
}
}  // namespace

TEST_CASE("a missing port is refused") {
  CHECK(reason_for("example.com") == "missing port");
  CHECK(reason_for("example.com:") == "missing port");
  CHECK(reason_for("[::1]") == "missing port");
  CHECK(reason_for("[::1]5280") == "missing port");
}

TEST_CASE("port 0, 65536 and non-numeric ports are refused") {
  CHECK(reason_for("a:0") == "port must be a number from 1 to 65535");
  CHECK(reason_for("a:65536") == "port must be a number from 1 to 65535");
  CHECK(reason_for("a:99999999999999999999") == "port must be a number from 1 to 65535");
  CHECK(reason_for("a:-1") == "port must be a number from 1 to 65535");
  CHECK(reason_for("a:52 80") == "port must be a number from 1 to 65535");
  CHECK(reason_for("a:0x50") == "port must be a number from 1 to 65535");
}

TEST_CASE("IPv6 needs brackets, and the brackets need an IPv6 address") {
  CHECK(reason_for("::1:5280") == "an IPv6 address must be in brackets, like [::1]:5280");
  CHECK(reason_for("[::1:5280") == "missing ']' after IPv6 address");
  CHECK(reason_for("[]:5280") == "bad IPv6 address in brackets");
  CHECK(reason_for("[example.com]:5280") == "bad IPv6 address in brackets");
}

TEST_CASE("host names are checked for shape") {
  CHECK(reason_for(":5280") == "missing host");
  CHECK(reason_for("exa mple:5280") == "bad character in host name");
  CHECK(reason_for("a/b:5280") == "bad character in host name");
  CHECK(reason_for("a..b:5280") == "empty label in host name");
  CHECK(reason_for(".a:5280") == "empty label in host name");
  CHECK(reason_for(std::string(254, 'a') + ":1") == "host name longer than 253 characters");
}

TEST_CASE("is_ip_literal accepts IPv4 and IPv6 literals only") {
  CHECK(is_ip_literal("0.0.0.0"));
  CHECK(is_ip_literal("::"));
  CHECK(is_ip_literal("2001:db8::1"));
  CHECK_FALSE(is_ip_literal("localhost"));
  CHECK_FALSE(is_ip_literal("256.1.1.1"));
  CHECK_FALSE(is_ip_literal(""));
}

TEST_CASE("is_valid_host_name takes DNS-shaped names only") {
  CHECK(is_valid_host_name("example.org"));
  CHECK(is_valid_host_name("xmpp_internal"));
  CHECK_FALSE(is_valid_host_name(""));
  CHECK_FALSE(is_valid_host_name("a..b"));
  CHECK_FALSE(is_valid_host_name("[::1]"));
}
