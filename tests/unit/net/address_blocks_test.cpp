// Address and CIDR block lists (net/address_blocks.hpp), as trusted_proxies uses them.
#include <doctest/doctest.h>

#include <string>

#include "net/address_blocks.hpp"

using sb::net::AddressBlocks;

namespace {

AddressBlocks parse(const char* list) {
  std::string error;
  auto blocks = AddressBlocks::parse(list, error);
  REQUIRE_MESSAGE(blocks.has_value(), error);
  return *blocks;
}

}  // namespace

TEST_CASE("an address block list holds addresses and CIDR blocks of both families") {
  const AddressBlocks trusted = parse("127.0.0.1 10.0.0.0/8 192.168.1.128/25 fd00::/8 ::1");
  CHECK(trusted.contains("127.0.0.1"));
  CHECK_FALSE(trusted.contains("127.0.0.2"));
  CHECK(trusted.contains("10.255.0.3"));
  CHECK_FALSE(trusted.contains("11.0.0.1"));
  CHECK(trusted.contains("192.168.1.200"));
  CHECK_FALSE(trusted.contains("192.168.1.100"));
  CHECK(trusted.contains("fd12::5"));
  CHECK_FALSE(trusted.contains("fe80::1"));
  CHECK(trusted.contains("::1"));
  CHECK(trusted.contains("::ffff:10.1.2.3"));  // IPv4-mapped
  CHECK_FALSE(trusted.contains("unknown"));
  CHECK(parse("0.0.0.0/0").contains("203.0.113.5"));
  CHECK_FALSE(parse("").contains("127.0.0.1"));

  std::string error;
  for (const char* bad :
       {"10.0.0.0/33", "fd00::/129", "10.0.0.0/", "10.0.0.0/x", "example.com", "10.0.0.256"}) {
    CAPTURE(bad);
    CHECK_FALSE(AddressBlocks::parse(bad, error).has_value());
    CHECK(error.find(bad) != std::string::npos);
  }
}

TEST_CASE("ip_bytes maps IPv4 into IPv6 and refuses what is no address") {
  std::array<std::uint8_t, 16> bytes{};
  bool v4 = false;
  REQUIRE(sb::net::ip_bytes("192.0.2.1", bytes, &v4));
  CHECK(v4);
  CHECK(bytes[10] == 0xff);
  CHECK(bytes[11] == 0xff);
  CHECK(bytes[12] == 192);
  CHECK(bytes[15] == 1);
  REQUIRE(sb::net::ip_bytes("2001:db8::1", bytes, &v4));
  CHECK_FALSE(v4);
  CHECK(bytes[0] == 0x20);
  CHECK(bytes[15] == 1);
  for (const char* bad : {"", "[::1]", "127.0.0.1:80", "example.com", "1.2.3"}) {
    CAPTURE(bad);
    CHECK_FALSE(sb::net::ip_bytes(bad, bytes));
  }
}
