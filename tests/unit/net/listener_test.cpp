// Listener: address parsing, SO_REUSEPORT sharing, pause/resume, the EMFILE back-off
// suspend/reopen (and what the kernel does with a closed listener's queue) and the
// close lifecycle, over real loopback sockets.
#include <doctest/doctest.h>
#include <sys/resource.h>
#include <unistd.h>

#include <cstdio>
#include <string>

#include "net/connector.hpp"
#include "net/loop_fixture.hpp"

using sb::net::connect_tcp;
using sb::net::Listener;
using sb::net::TcpStream;
using sb::net::test::LoopFixture;
using sb::net::test::Recorder;

namespace {

// Accepted streams are closed at once; the test only counts them.
struct CountingListener {
  explicit CountingListener(uv_loop_t* loop)
      : listener(loop, [this](TcpStream& stream) {
          ++accepted;
          accepted_at = uv_now(stream.handle()->loop);
          stream.close();
        }) {}
  int accepted = 0;
  std::uint64_t accepted_at = 0;
  Listener listener;
};

}  // namespace

TEST_CASE_FIXTURE(LoopFixture, "listen parses addresses and reports the bound port") {
  Listener listener(loop(), [](TcpStream& s) { s.close(); });
  std::string error;
  for (const char* bad : {"", "127.0.0.1", "127.0.0.1:", "127.0.0.1:99999", "127.0.0.1:80x",
                          "localhost:80", "::1:80", "[::1]", "[::1]80", "[nonsense]:80"}) {
    CAPTURE(bad);
    CHECK(listener.listen(bad, 16, error) == UV_EINVAL);
    CHECK_FALSE(error.empty());
  }
  CHECK(listener.bound_port() == 0);
  REQUIRE(listener.listen("127.0.0.1:0", 16, error) == 0);
  CHECK(error.empty());
  CHECK(listener.bound_port() > 0);
  CHECK(listener.listen("127.0.0.1:0", 16, error) == UV_EINVAL);  // one listen() only
  CHECK_FALSE(listener.closed());
  listener.close();
  listener.close();
  run();
  CHECK(listener.closed());
  finish();
}

TEST_CASE_FIXTURE(LoopFixture, "IPv6 and wildcard addresses are accepted") {
  std::string error;
  Listener any(loop(), [](TcpStream& s) { s.close(); });
  CHECK(any.listen("0.0.0.0:0", 16, error) == 0);
  Listener v6(loop(), [](TcpStream& s) { s.close(); });
  const int rc = v6.listen("[::1]:0", 16, error);
  // A machine without IPv6 says so at bind time; the parsing was still right.
  CHECK((rc == 0 || rc == UV_EADDRNOTAVAIL || rc == UV_EAFNOSUPPORT));
  if (rc == 0) CHECK(v6.bound_port() > 0);
  any.close();
  v6.close();
  run();
  finish();
}

TEST_CASE_FIXTURE(LoopFixture, "two listeners share a port with SO_REUSEPORT") {
  CountingListener first(loop());
  CountingListener second(loop());
  std::string error;
  REQUIRE(first.listener.listen("127.0.0.1:0", 16, error) == 0);
  const int port = first.listener.bound_port();
  const std::string address = "127.0.0.1:" + std::to_string(port);
  CHECK(second.listener.listen(address, 16, error) == 0);
  CHECK(error.empty());
  CHECK(second.listener.bound_port() == port);

  // Connections land on one of them, each accepted once.
  Recorder client;
  int connected = 0;
  for (int i = 0; i < 8; ++i) {
    connect_tcp(loop(), "127.0.0.1", static_cast<std::uint16_t>(port), 1000, &client,
                [&connected](int status, TcpStream* s) {
                  CHECK(status == 0);
                  if (s != nullptr) s->close();
                  ++connected;
                });
  }
  CHECK(run_until([&] { return connected == 8 && first.accepted + second.accepted == 8; }));
  first.listener.close();
  second.listener.close();
  run();
  CHECK(client.closed == 8);
  finish();
}

TEST_CASE_FIXTURE(LoopFixture, "a socket bound without SO_REUSEPORT keeps the port to itself") {
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in addr{};
  REQUIRE(uv_ip4_addr("127.0.0.1", 0, &addr) == 0);
  REQUIRE(::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0);
  REQUIRE(::listen(fd, 1) == 0);
  socklen_t length = sizeof addr;
  REQUIRE(::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &length) == 0);
  Listener listener(loop(), [](TcpStream& s) { s.close(); });
  std::string error;
  CHECK(listener.listen("127.0.0.1:" + std::to_string(ntohs(addr.sin_port)), 16, error) ==
        UV_EADDRINUSE);
  CHECK(error.find("address already in use") != std::string::npos);
  ::close(fd);
  run();
  finish();
}

TEST_CASE_FIXTURE(LoopFixture,
                  "a paused listener leaves connections in the backlog until resumed") {
  CountingListener server(loop());
  std::string error;
  server.listener.pause();  // before listen: starts paused
  REQUIRE(server.listener.listen("127.0.0.1:0", 16, error) == 0);
  Recorder client;
  int connected = 0;
  connect_tcp(loop(), "127.0.0.1", static_cast<std::uint16_t>(server.listener.bound_port()), 1000,
              &client, [&connected](int status, TcpStream* s) {
                CHECK(status == 0);  // the kernel completes the handshake for us
                if (s != nullptr) s->close();
                ++connected;
              });
  int accepted_while_paused = -1;
  after(100, [&] {
    accepted_while_paused = server.accepted;
    server.listener.resume();
  });
  CHECK(run_until([&] { return server.accepted == 1; }));
  CHECK(connected == 1);
  CHECK(accepted_while_paused == 0);
  server.listener.close();
  run();
  finish();
}

TEST_CASE_FIXTURE(LoopFixture, "out of file descriptors, accepting backs off instead of spinning") {
  CountingListener server(loop());
  std::string error;
  REQUIRE(server.listener.listen("127.0.0.1:0", 16, error) == 0);

  // Lower the soft fd limit to the lowest free descriptor: the next accept4 fails
  // with EMFILE. The limit comes back 30 ms later; the listener must wait out its
  // back-off (not accept at 30 ms) and then take the connection.
  rlimit original{};
  REQUIRE(getrlimit(RLIMIT_NOFILE, &original) == 0);
  Recorder client;
  int connected = 0;
  TcpStream* client_stream = nullptr;
  // The client's stream is closed only once the limit is back: UBSan's runtime
  // needs file descriptors of its own for its checks in the close callback.
  connect_tcp(loop(), "127.0.0.1", static_cast<std::uint16_t>(server.listener.bound_port()), 1000,
              &client, [&connected, &client_stream](int status, TcpStream* s) {
                CHECK(status == 0);
                client_stream = s;
                ++connected;
              });
  const int lowest_free = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  REQUIRE(lowest_free >= 0);
  ::close(lowest_free);
  rlimit lowered = original;
  lowered.rlim_cur = static_cast<rlim_t>(lowest_free);
  REQUIRE(setrlimit(RLIMIT_NOFILE, &lowered) == 0);
  uv_update_time(loop());
  const std::uint64_t start = uv_now(loop());
  after(30, [&original] { CHECK(setrlimit(RLIMIT_NOFILE, &original) == 0); });

  CHECK(run_until([&] { return server.accepted == 1 && connected == 1; }));
  setrlimit(RLIMIT_NOFILE, &original);  // in case the timer never ran
  if (client_stream != nullptr) client_stream->close();
  CHECK(server.accepted_at >= start + Listener::kBackoffMs);
  server.listener.close();
  run();
  finish();
}

TEST_CASE_FIXTURE(LoopFixture, "close() frees the port at once") {
  Listener listener(loop(), [](TcpStream& s) { s.close(); });
  std::string error;
  REQUIRE(listener.listen("127.0.0.1:0", 16, error) == 0);
  const int port = listener.bound_port();
  listener.close();
  CHECK(listener.bound_port() == 0);
  CHECK_FALSE(listener.closed());  // the handles go on the next loop run

  // Nothing listens any more: a plain socket may take the port without sharing it.
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in addr{};
  REQUIRE(uv_ip4_addr("127.0.0.1", port, &addr) == 0);
  CHECK(::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0);
  ::close(fd);
  run();
  CHECK(listener.closed());
  finish();
}

TEST_CASE_FIXTURE(LoopFixture, "a suspended listener is out of the port's group until reopened") {
  CountingListener first(loop());
  CountingListener second(loop());
  std::string error;
  // Backlogs and connect timeouts with room: the 32 connections below are made at
  // once, and on a loaded machine (ASan, tests in parallel) a backlog of 16 on the
  // listener the kernel picks for most of them drops SYNs, whose retry comes 1 s later.
  REQUIRE(first.listener.listen("127.0.0.1:0", 128, error) == 0);
  const int port = first.listener.bound_port();
  REQUIRE(second.listener.listen("127.0.0.1:" + std::to_string(port), 128, error) == 0);
  first.listener.suspend();
  CHECK(first.listener.suspended());
  CHECK(first.listener.bound_port() == 0);
  CHECK(first.listener.reopen(error) == 0);  // at once: no wait for the old poll handle
  first.listener.suspend();

  Recorder client;
  int connected = 0;
  auto connect_some = [&](int count) {
    for (int i = 0; i < count; ++i) {
      connect_tcp(loop(), "127.0.0.1", static_cast<std::uint16_t>(port), 5000, &client,
                  [&connected](int status, TcpStream* s) {
                    CHECK(status == 0);
                    if (s != nullptr) s->close();
                    ++connected;
                  });
    }
  };
  connect_some(16);
  CHECK(run_until([&] { return connected == 16 && second.accepted == 16; }));
  CHECK(first.accepted == 0);

  // Back in the group: the kernel hashes connections to both again (32 tries, each
  // has an even chance, so "none for first" would happen 1 time in 4 billion).
  REQUIRE(first.listener.reopen(error) == 0);
  CHECK(first.listener.listening());
  CHECK(first.listener.bound_port() == port);
  connect_some(32);
  CHECK(run_until([&] { return connected == 48 && first.accepted + second.accepted == 48; }));
  CHECK(first.accepted > 0);
  CHECK(first.listener.reopen(error) == UV_EINVAL);  // only after suspend()
  first.listener.close();
  second.listener.close();
  run();
  CHECK(first.listener.closed());
  finish();
}

// What happens to connections already queued for a listener that closes depends on
// net.ipv4.tcp_migrate_req: with 1 the kernel moves them to another listener of the
// port, with 0 they are reset. The test reads the sysctl and checks that behaviour.
TEST_CASE_FIXTURE(LoopFixture, "suspend() migrates or resets the connections queued for it") {
  CountingListener first(loop());
  CountingListener second(loop());
  std::string error;
  first.listener.pause();  // nothing is accepted here: the connection stays queued
  REQUIRE(first.listener.listen("127.0.0.1:0", 16, error) == 0);
  const int port = first.listener.bound_port();
  Recorder client;
  int connected = 0;
  TcpStream* stream = nullptr;
  connect_tcp(loop(), "127.0.0.1", static_cast<std::uint16_t>(port), 1000, &client,
              [&](int status, TcpStream* s) {
                CHECK(status == 0);
                stream = s;
                ++connected;
              });
  CHECK(run_until([&] { return connected == 1; }));  // queued for `first`, the only listener
  REQUIRE(stream != nullptr);
  stream->start_reading();
  REQUIRE(second.listener.listen("127.0.0.1:" + std::to_string(port), 16, error) == 0);
  first.listener.suspend();

  char migrate = '0';
  if (FILE* f = std::fopen("/proc/sys/net/ipv4/tcp_migrate_req", "r")) {
    migrate = static_cast<char>(std::fgetc(f));
    std::fclose(f);
  }
  CAPTURE(migrate);
  if (migrate == '1') {
    CHECK(run_until([&] { return second.accepted == 1; }));  // moved, then closed by `second`
  } else {
    CHECK(run_until([&] { return client.read_ends == 1; }));
    CHECK(client.read_end_status == UV_ECONNRESET);
    CHECK(second.accepted == 0);
  }
  CHECK(first.accepted == 0);
  stream->close();
  first.listener.close();
  second.listener.close();
  run();
  finish();
}
