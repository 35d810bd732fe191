// SourcePool: the text form (addresses, ranges, IPv4 and IPv6, the errors), round
// robin over several ranges, and connect_tcp binding its sockets to the pool's
// addresses over loopback, skipping an address this machine does not have.
#include <arpa/inet.h>
#include <doctest/doctest.h>
#include <netinet/in.h>

#include <map>
#include <string>
#include <vector>

#include "net/connector.hpp"
#include "net/loop_fixture.hpp"
#include "net/source_pool.hpp"

using sb::net::connect_tcp;
using sb::net::SourcePool;
using sb::net::TcpStream;
using sb::net::test::LocalServer;
using sb::net::test::LoopFixture;
using sb::net::test::Recorder;

namespace {

std::string text_of(const sockaddr_storage& address) {
  char text[INET6_ADDRSTRLEN] = {};
  if (address.ss_family == AF_INET) {
    inet_ntop(AF_INET, &reinterpret_cast<const sockaddr_in*>(&address)->sin_addr, text,
              sizeof text);
  } else {
    inet_ntop(AF_INET6, &reinterpret_cast<const sockaddr_in6*>(&address)->sin6_addr, text,
              sizeof text);
  }
  return text;
}

std::vector<std::string> take(SourcePool& pool, int family, int n) {
  std::vector<std::string> out;
  sockaddr_storage address{};
  for (int i = 0; i < n; ++i) {
    REQUIRE(pool.next(family, address));
    CHECK(reinterpret_cast<const sockaddr_in*>(&address)->sin_port == 0);
    out.push_back(text_of(address));
  }
  return out;
}

std::string peer_of(TcpStream& stream) {
  sockaddr_storage address{};
  int length = sizeof address;
  uv_tcp_getpeername(stream.handle(), reinterpret_cast<sockaddr*>(&address), &length);
  return text_of(address);
}

}  // namespace

TEST_CASE("source pools parse addresses and ranges of both families") {
  std::string error;
  auto pool = SourcePool::parse("127.0.0.2-127.0.0.4, 10.1.2.3  fd00::fe-fd00::101 [::1]", error);
  REQUIRE(pool.has_value());
  CHECK(error.empty());
  CHECK(pool->count(AF_INET) == 4);
  CHECK(pool->count(AF_INET6) == 5);
  CHECK(take(*pool, AF_INET, 5) ==
        std::vector<std::string>{"127.0.0.2", "127.0.0.3", "127.0.0.4", "10.1.2.3", "127.0.0.2"});
  CHECK(take(*pool, AF_INET6, 6) == std::vector<std::string>{"fd00::fe", "fd00::ff", "fd00::100",
                                                             "fd00::101", "::1", "fd00::fe"});

  auto empty = SourcePool::parse("  ", error);
  REQUIRE(empty.has_value());
  CHECK(empty->empty());
  sockaddr_storage address{};
  CHECK_FALSE(empty->next(AF_INET, address));

  auto v4_only = SourcePool::parse("127.0.0.9", error);
  REQUIRE(v4_only.has_value());
  CHECK_FALSE(v4_only->next(AF_INET6, address));  // no IPv6 source: the kernel picks
}

TEST_CASE("bad source pools say which word is wrong") {
  std::string error;
  const std::map<std::string, std::string> bad{
      {"127.0.0.300", "'127.0.0.300' is not an IP address"},
      {"127.0.0.5-127.0.0.2", "runs backwards"},
      {"127.0.0.1-::1", "mixes IPv4 and IPv6"},
      {"10.0.0.0-11.0.0.0", "holds more than 16777216 addresses"},
      {"fd00::1-fd01::1", "holds more than"},
      {"host.example", "'host.example' is not an IP address"},
      {"127.0.0.1-", "is not an IP address"},
  };
  for (const auto& [text, message] : bad) {
    CAPTURE(text);
    CHECK_FALSE(SourcePool::parse(text, error).has_value());
    CHECK(error.find(message) != std::string::npos);
  }
}

TEST_CASE_FIXTURE(LoopFixture, "connect_tcp binds each socket to the next source address") {
  std::map<std::string, int> peers;  // source address -> connections the server saw
  sb::net::Listener listener(loop(), [&peers](TcpStream& stream) {
    ++peers[peer_of(stream)];
    stream.close();
  });
  std::string error;
  REQUIRE(listener.listen("127.0.0.1:0", 64, error) == 0);
  const auto port = static_cast<std::uint16_t>(listener.bound_port());
  // 203.0.113.1 (TEST-NET-3) is not an address of this machine: bind fails with
  // EADDRNOTAVAIL and the connector moves on to the next source.
  auto pool = SourcePool::parse("127.0.0.2-127.0.0.4 203.0.113.1", error);
  REQUIRE(pool.has_value());
  Recorder client;
  int done = 0;
  for (int i = 0; i < 8; ++i) {
    connect_tcp(
        loop(), "127.0.0.1", port, 2000, &client,
        [&done](int status, TcpStream* stream) {
          CHECK(status == 0);
          if (stream != nullptr) stream->close();
          ++done;
        },
        &*pool);
  }
  int accepted = 0;
  CHECK(run_until([&] {
    accepted = 0;
    for (const auto& [peer, count] : peers) accepted += count;
    return done == 8 && accepted == 8;
  }));
  // Round robin over four sources, one of them unusable: 8 connections over 3.
  CHECK(peers.size() == 3);
  CHECK(peers.count("127.0.0.2") == 1);
  CHECK(peers.count("127.0.0.3") == 1);
  CHECK(peers.count("127.0.0.4") == 1);
  CHECK(peers.count("127.0.0.1") == 0);

  // A pool with no usable address: the connect fails with EADDRNOTAVAIL after
  // trying each once.
  auto hopeless = SourcePool::parse("203.0.113.1 203.0.113.2", error);
  REQUIRE(hopeless.has_value());
  int status = 1;
  connect_tcp(
      loop(), "127.0.0.1", port, 2000, &client,
      [&status](int s, TcpStream* stream) {
        status = s;
        if (stream != nullptr) stream->close();
      },
      &*hopeless);
  CHECK(run_until([&] { return status != 1; }));
  CHECK(status == UV_EADDRNOTAVAIL);
  listener.close();
  run();
  finish();
}
