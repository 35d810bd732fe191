// connect_tcp over loopback: success by address and by name, refusal, timeout and
// cancellation, each with the callback run exactly once (or never, when cancelled)
// and nothing left behind.
//
// A connect that hangs on loopback is made with a listening socket of backlog 0
// whose one accept-queue slot is taken by a filler connection: Linux drops further
// SYNs, so the next connect stays in SYN-SENT until something gives up.
#include <doctest/doctest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <string>

#include "net/connector.hpp"
#include "net/loop_fixture.hpp"

using sb::net::cancel_connect;
using sb::net::connect_tcp;
using sb::net::ConnectAttempt;
using sb::net::Listener;
using sb::net::TcpStream;
using sb::net::test::LocalServer;
using sb::net::test::LoopFixture;
using sb::net::test::Recorder;

namespace {

struct Outcome {
  int calls = 0;
  int status = 1;
  TcpStream* stream = nullptr;
  std::uint64_t at = 0;
};

sb::net::ConnectFn record_into(Outcome& outcome, uv_loop_t* loop) {
  return [&outcome, loop](int status, TcpStream* stream) {
    ++outcome.calls;
    outcome.status = status;
    outcome.stream = stream;
    outcome.at = uv_now(loop);
  };
}

// A port on 127.0.0.1 where nothing listens (bound a moment ago, then released).
std::uint16_t closed_port(LoopFixture& fixture) {
  Listener listener(fixture.loop(), [](TcpStream&) {});
  std::string error;
  REQUIRE(listener.listen("127.0.0.1:0", 1, error) == 0);
  const auto port = static_cast<std::uint16_t>(listener.bound_port());
  listener.close();
  CHECK(fixture.run_until([&] { return listener.closed(); }));
  return port;
}

// See the file comment: connects to `port` hang until given up.
class FullBacklog {
 public:
  FullBacklog() {
    listen_fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in addr{};
    REQUIRE(uv_ip4_addr("127.0.0.1", 0, &addr) == 0);
    REQUIRE(::bind(listen_fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0);
    REQUIRE(::listen(listen_fd_, 0) == 0);
    socklen_t length = sizeof addr;
    REQUIRE(::getsockname(listen_fd_, reinterpret_cast<sockaddr*>(&addr), &length) == 0);
    port = ntohs(addr.sin_port);
    filler_fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    REQUIRE(::connect(filler_fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0);
  }
  FullBacklog(const FullBacklog&) = delete;
  FullBacklog& operator=(const FullBacklog&) = delete;
  ~FullBacklog() {
    ::close(filler_fd_);
    ::close(listen_fd_);
  }

  std::uint16_t port = 0;

 private:
  int listen_fd_ = -1;
  int filler_fd_ = -1;
};

}  // namespace

TEST_CASE_FIXTURE(LoopFixture, "connecting to a numeric address hands over a ready stream") {
  Recorder client;
  Recorder server;
  server.on_end = [](TcpStream& s, int) { s.close(); };
  LocalServer local(*this, server);
  Outcome outcome;
  connect_tcp(loop(), "127.0.0.1", local.port, 1000, &client, record_into(outcome, loop()));
  CHECK(outcome.calls == 0);  // never from inside connect_tcp
  CHECK(run_until([&] { return outcome.calls == 1 && local.accepted == 1; }));
  CHECK(outcome.status == 0);
  REQUIRE(outcome.stream != nullptr);
  CHECK(outcome.stream->handler() == &client);
  CHECK_FALSE(outcome.stream->reading());

  outcome.stream->close();
  local.listener().close();
  run();
  CHECK(outcome.calls == 1);
  CHECK(client.closed == 1);
  CHECK(server.closed == 1);
  finish();
}

TEST_CASE_FIXTURE(LoopFixture, "connecting by name tries the resolved addresses in turn") {
  // "localhost" may resolve to ::1 first; only 127.0.0.1 listens, so that try must
  // fail over to the next address.
  Recorder client;
  Recorder server;
  server.on_end = [](TcpStream& s, int) { s.close(); };
  LocalServer local(*this, server);
  Outcome outcome;
  connect_tcp(loop(), "localhost", local.port, 2000, &client, record_into(outcome, loop()));
  CHECK(run_until([&] { return outcome.calls == 1; }));
  CHECK(outcome.status == 0);
  REQUIRE(outcome.stream != nullptr);
  CHECK(outcome.stream->peer_ip() == "127.0.0.1");

  outcome.stream->close();
  local.listener().close();
  run();
  CHECK(outcome.calls == 1);
  finish();
}

TEST_CASE_FIXTURE(LoopFixture, "a closed port is refused") {
  const std::uint16_t port = closed_port(*this);
  Recorder client;
  Outcome outcome;
  connect_tcp(loop(), "127.0.0.1", port, 1000, &client, record_into(outcome, loop()));
  run();
  CHECK(outcome.calls == 1);
  CHECK(outcome.status == UV_ECONNREFUSED);
  CHECK(outcome.stream == nullptr);
  CHECK(client.closed == 0);  // the failed try's stream was never the caller's
  finish();
}

TEST_CASE_FIXTURE(LoopFixture, "a name the resolver refuses fails from the loop") {
  // Longer than any DNS name: rejected before any lookup starts.
  Recorder client;
  Outcome outcome;
  connect_tcp(loop(), std::string(300, 'a'), 80, 1000, &client, record_into(outcome, loop()));
  CHECK(outcome.calls == 0);
  run();
  CHECK(outcome.calls == 1);
  CHECK(outcome.status < 0);
  CHECK(outcome.stream == nullptr);
  finish();
}

TEST_CASE_FIXTURE(LoopFixture, "a connect that hangs times out on the wheel") {
  FullBacklog full;
  Recorder client;
  Outcome outcome;
  uv_update_time(loop());
  const std::uint64_t start = uv_now(loop());
  connect_tcp(loop(), "127.0.0.1", full.port, 100, &client, record_into(outcome, loop()));
  run();
  CHECK(outcome.calls == 1);
  CHECK(outcome.status == UV_ETIMEDOUT);
  CHECK(outcome.stream == nullptr);
  CHECK(outcome.at >= start + 100);
  CHECK(outcome.at < start + 1000);  // well before the SYN retry would get through
  finish();
}

TEST_CASE_FIXTURE(LoopFixture, "a tiny timeout either connects or times out, exactly once") {
  Recorder client;
  Recorder server;
  server.on_end = [](TcpStream& s, int) { s.close(); };
  LocalServer local(*this, server);
  Outcome outcome;
  connect_tcp(loop(), "127.0.0.1", local.port, 1, &client, [&](int status, TcpStream* stream) {
    ++outcome.calls;
    outcome.status = status;
    if (stream != nullptr) stream->close();
    local.listener().close();
  });
  run();
  CHECK(outcome.calls == 1);
  CHECK((outcome.status == 0 || outcome.status == UV_ETIMEDOUT));
  finish();
}

TEST_CASE_FIXTURE(LoopFixture, "cancel_connect: the callback never runs, whatever was in flight") {
  Recorder client;
  Outcome outcome;

  SUBCASE("a connect about to be refused") {
    const std::uint16_t port = closed_port(*this);
    cancel_connect(
        connect_tcp(loop(), "127.0.0.1", port, 1000, &client, record_into(outcome, loop())));
  }
  SUBCASE("a name being resolved") {
    cancel_connect(
        connect_tcp(loop(), "localhost", 9, 1000, &client, record_into(outcome, loop())));
  }
  SUBCASE("a connect that hangs, cancelled from the loop") {
    FullBacklog full;
    ConnectAttempt* attempt =
        connect_tcp(loop(), "127.0.0.1", full.port, 1000, &client, record_into(outcome, loop()));
    after(30, [attempt] { cancel_connect(attempt); });
    run();
  }
  run();
  CHECK(outcome.calls == 0);
  CHECK(client.closed == 0);
  finish();
}
