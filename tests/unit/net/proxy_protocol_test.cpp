// The PROXY protocol reader and writer: v1 and v2 headers in any pieces, the
// bytes after the header left for HTTP, every malformed header refused early,
// and the headers we write read back by our reader.
#include <doctest/doctest.h>

#include <arpa/inet.h>
#include <netinet/in.h>

#include <string>

#include "net/proxy_protocol.hpp"

using sb::net::encode_proxy_header;
using sb::net::ProxyHeaderReader;
using Status = ProxyHeaderReader::Status;

namespace {

// Feeds `bytes` in pieces of `piece`; returns the status and what followed the header.
Status feed_all(ProxyHeaderReader& reader, const std::string& bytes, std::size_t piece,
                std::string& rest) {
  for (std::size_t at = 0; at < bytes.size(); at += piece) {
    std::size_t used = 0;
    const std::string_view chunk = std::string_view(bytes).substr(at, piece);
    const Status status = reader.feed(chunk, used);
    if (status == Status::kDone) {
      rest = std::string(chunk.substr(used)) + bytes.substr(std::min(bytes.size(), at + piece));
      return status;
    }
    if (status == Status::kInvalid) return status;
  }
  return Status::kNeedMore;
}

std::string v2(unsigned char command, unsigned char family, const std::string& body) {
  std::string out("\r\n\r\n\0\r\nQUIT\n", 12);
  out.push_back(static_cast<char>(command));
  out.push_back(static_cast<char>(family));
  out.push_back(static_cast<char>(body.size() >> 8));
  out.push_back(static_cast<char>(body.size() & 0xff));
  return out + body;
}

sockaddr_in v4_address(const char* ip, std::uint16_t port) {
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(port);
  inet_pton(AF_INET, ip, &a.sin_addr);
  return a;
}

}  // namespace

TEST_CASE("v1 TCP4 and TCP6 headers name the client, in any pieces") {
  const std::string http = "GET / HTTP/1.1\r\n\r\n";
  for (std::size_t piece : {std::size_t{1}, std::size_t{5}, std::size_t{200}}) {
    ProxyHeaderReader reader;
    std::string rest;
    REQUIRE(feed_all(reader, "PROXY TCP4 192.0.2.7 198.51.100.1 56324 443\r\n" + http, piece,
                     rest) == Status::kDone);
    CHECK_FALSE(reader.header().local);
    CHECK(reader.header().source_ip == "192.0.2.7");
    CHECK(reader.header().source_port == 56324);
    CHECK(rest == http);

    ProxyHeaderReader six;
    REQUIRE(feed_all(six, "PROXY TCP6 2001:db8::1 2001:db8::2 1 65535\r\n", piece, rest) ==
            Status::kDone);
    CHECK(six.header().source_ip == "2001:db8::1");
    CHECK(rest.empty());
  }
}

TEST_CASE("v1 UNKNOWN keeps the socket's address") {
  ProxyHeaderReader reader;
  std::string rest;
  REQUIRE(feed_all(reader, "PROXY UNKNOWN ffff:f...f:ffff 1.2.3.4 1 2\r\nGET", 100, rest) ==
          Status::kDone);
  CHECK(reader.header().local);
  CHECK(rest == "GET");
}

TEST_CASE("malformed v1 headers are refused") {
  for (const std::string bad : {
           "GET / HTTP/1.1\r\n\r\n",                             // no header at all
           "PROXY TCP4 192.0.2.7 198.51.100.1 56324\r\n",        // a field missing
           "PROXY TCP4 192.0.2.7 198.51.100.1 56324 443 x\r\n",  // one too many
           "PROXY TCP5 192.0.2.7 198.51.100.1 1 2\r\n",          // no such protocol
           "PROXY TCP4 2001:db8::1 198.51.100.1 1 2\r\n",        // the wrong family
           "PROXY TCP4 192.0.2.300 198.51.100.1 1 2\r\n",        // not an address
           "PROXY TCP4 192.0.2.7 198.51.100.1 65536 2\r\n",      // port out of range
           "PROXY TCP4 192.0.2.7 198.51.100.1 -1 2\r\n",
           "PROXY TCP4  192.0.2.7 198.51.100.1 1 2\r\n",  // double space
           "proxy TCP4 192.0.2.7 198.51.100.1 1 2\r\n",   // case matters
       }) {
    ProxyHeaderReader reader;
    std::string rest;
    CAPTURE(bad);
    CHECK(feed_all(reader, bad, 1, rest) == Status::kInvalid);
    CHECK_FALSE(reader.error().empty());
  }
  // A line that never ends is refused at the specification's 107 bytes.
  ProxyHeaderReader endless;
  std::string rest;
  CHECK(feed_all(endless, "PROXY TCP4 " + std::string(200, '1'), 1, rest) == Status::kInvalid);
}

TEST_CASE("a client speaking HTTP is refused at its first byte") {
  ProxyHeaderReader reader;
  std::size_t used = 0;
  CHECK(reader.feed("G", used) == Status::kInvalid);
}

TEST_CASE("v2 PROXY over IPv4 and IPv6, LOCAL, UNSPEC and TLVs") {
  const std::string v4_body = std::string("\xc0\x00\x02\x07\xc6\x33\x64\x01\xdc\x04\x01\xbb", 12);
  std::string rest;
  for (std::size_t piece : {std::size_t{1}, std::size_t{7}, std::size_t{100}}) {
    ProxyHeaderReader reader;
    REQUIRE(feed_all(reader, v2(0x21, 0x11, v4_body) + "POST", piece, rest) == Status::kDone);
    CHECK(reader.header().source_ip == "192.0.2.7");
    CHECK(reader.header().source_port == 56324);
    CHECK(rest == "POST");
  }
  // TLVs after the addresses are skipped.
  ProxyHeaderReader with_tlv;
  REQUIRE(feed_all(with_tlv, v2(0x21, 0x11, v4_body + std::string("\x04\x00\x03xyz", 6)) + "x", 3,
                   rest) == Status::kDone);
  CHECK(with_tlv.header().source_ip == "192.0.2.7");
  CHECK(rest == "x");

  std::string v6_body(36, '\0');
  v6_body[0] = '\x20';
  v6_body[1] = '\x01';
  v6_body[2] = '\x0d';
  v6_body[3] = '\xb8';
  v6_body[15] = '\x09';
  v6_body[32] = '\x12';
  v6_body[33] = '\x34';
  ProxyHeaderReader six;
  REQUIRE(feed_all(six, v2(0x21, 0x21, v6_body), 5, rest) == Status::kDone);
  CHECK(six.header().source_ip == "2001:db8::9");
  CHECK(six.header().source_port == 0x1234);

  ProxyHeaderReader local;
  REQUIRE(feed_all(local, v2(0x20, 0x00, ""), 16, rest) == Status::kDone);
  CHECK(local.header().local);
  ProxyHeaderReader unspec;
  REQUIRE(feed_all(unspec, v2(0x21, 0x00, "abc"), 16, rest) == Status::kDone);
  CHECK(unspec.header().local);
}

TEST_CASE("malformed v2 headers are refused") {
  const std::string v4_body(12, '\x01');
  std::string rest;
  for (const std::string& bad : {
           v2(0x31, 0x11, v4_body),               // version 3
           v2(0x22, 0x11, v4_body),               // command 2
           v2(0x21, 0x11, v4_body.substr(0, 8)),  // IPv4 addresses cut short
           v2(0x21, 0x21, v4_body),               // IPv6 addresses cut short
           v2(0x21, 0x41, v4_body),               // unknown family
           v2(0x21, 0x13, v4_body),               // unknown transport
       }) {
    ProxyHeaderReader reader;
    CHECK(feed_all(reader, bad, 4, rest) == Status::kInvalid);
  }
  // A length beyond our bound is refused from the header alone.
  std::string huge = v2(0x21, 0x11, "");
  huge[14] = '\xff';
  huge[15] = '\xff';
  ProxyHeaderReader reader;
  CHECK(feed_all(reader, huge, 16, rest) == Status::kInvalid);
  // A signature gone wrong half-way.
  ProxyHeaderReader broken;
  CHECK(feed_all(broken, std::string("\r\n\r\n\0\r\nQUIX\n", 12), 1, rest) == Status::kInvalid);
}

TEST_CASE("the headers we write are read back") {
  const sockaddr_in server = v4_address("127.0.0.1", 5222);
  const auto* destination = reinterpret_cast<const sockaddr*>(&server);
  CHECK(encode_proxy_header(1, "192.0.2.7", 0, destination) ==
        "PROXY TCP4 192.0.2.7 127.0.0.1 0 5222\r\n");
  for (int version : {1, 2}) {
    for (const char* client : {"192.0.2.7", "2001:db8::1"}) {
      ProxyHeaderReader reader;
      std::string rest;
      CAPTURE(version);
      CAPTURE(client);
      REQUIRE(feed_all(reader, encode_proxy_header(version, client, 4711, destination), 3, rest) ==
              Status::kDone);
      CHECK(reader.header().source_ip == client);  // IPv4 mapped for v6 reads back as IPv4
      CHECK(reader.header().source_port == 4711);
    }
    // No client known: UNKNOWN / LOCAL, the connection's own address counts.
    ProxyHeaderReader reader;
    std::string rest;
    REQUIRE(feed_all(reader, encode_proxy_header(version, "", 0, destination), 100, rest) ==
            Status::kDone);
    CHECK(reader.header().local);
  }
}
