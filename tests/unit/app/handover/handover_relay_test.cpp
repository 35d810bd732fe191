// The supervisor's relay, for the hang watch: read_now() reads what a worker's
// pipe holds at once, without the loop turning (so a heartbeat waiting there
// counts before the worker is called silent), has_unread() sees bytes still
// waiting, and a pipe the relay does not read makes read_now() say so rather than
// report silence. And a gate for an upgrade in place goes down a worker's pipe
// to the worker's gate handler.
#include <doctest/doctest.h>
#include <sys/socket.h>
#include <unistd.h>

#include <string>
#include <vector>

#include "app/front/http_socket.hpp"
#include "app/handover/handover.hpp"
#include "app/handover/handover_relay.hpp"
#include "app/handover/handover_wire.hpp"
#include "net/loop_fixture.hpp"

using sb::app::ControlMessage;
using sb::app::HandoverRelay;
using sb::net::test::LoopFixture;

namespace {
// Worker 0's IPC pipe, as the supervisor has it: `pipe` (ours, attached to the
// relay) on ends[0]; ends[1] is the worker's side.
void attach_worker(LoopFixture& fixture, HandoverRelay& relay, uv_pipe_t& pipe, int (&ends)[2]) {
  REQUIRE(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, ends) == 0);
  uv_pipe_init(fixture.loop(), &pipe, 1);
  REQUIRE(uv_pipe_open(&pipe, ends[0]) == 0);
  relay.attach(0, &pipe);
}
}  // namespace

TEST_CASE("hang watch: the relay reads a worker's pipe on demand, and knows when it cannot") {
  LoopFixture fixture;
  HandoverRelay relay(fixture.loop(), 2);
  std::vector<std::string> heard;
  relay.set_control_handler([&](std::uint32_t worker, const ControlMessage& message) {
    heard.push_back(std::to_string(worker) + ":" + message.kind);
  });
  int ends[2];
  uv_pipe_t pipe{};
  attach_worker(fixture, relay, pipe, ends);

  CHECK_FALSE(relay.read_now(1));  // worker 1 has no pipe: nothing to conclude
  CHECK_FALSE(relay.has_unread(0));
  const std::string beat = sb::app::encode_control("alive", "");
  REQUIRE(::write(ends[1], beat.data(), beat.size()) == static_cast<ssize_t>(beat.size()));
  CHECK(relay.has_unread(0));
  CHECK(relay.read_now(0));  // read here and now: the loop never turned
  CHECK(heard == std::vector<std::string>{"0:alive"});
  CHECK_FALSE(relay.has_unread(0));

  // The worker's end closes: the relay stops reading, and says so.
  ::close(ends[1]);
  relay.read_now(0);
  CHECK_FALSE(relay.read_now(0));
  relay.detach(0);
  CHECK_FALSE(relay.read_now(0));
  uv_close(reinterpret_cast<uv_handle_t*>(&pipe), nullptr);
  fixture.run();
}

// An upgrade in place with several workers: the supervisor sends each worker
// its end of a gate down the IPC pipe (a kUpgradeGateTarget frame); the worker's
// Handover hands the descriptor to its gate handler, not to the HTTP sockets.
TEST_CASE("a gate goes down a worker's pipe to the worker's gate handler, working") {
  LoopFixture fixture;
  HandoverRelay relay(fixture.loop(), 1);
  int ends[2];
  uv_pipe_t pipe{};
  attach_worker(fixture, relay, pipe, ends);

  sb::http::ConnectionLimits limits;
  sb::http::CorsPolicy cors;
  sb::app::HttpSocketList list;
  struct Refuse final : sb::http::Handler {
    void handle(sb::http::Request&, sb::http::Exchange& exchange) override {
      exchange.send(sb::http::Response::text(500, "text/plain", "no"));
    }
  } handler;
  sb::app::HttpSocket::Shared shared{handler, limits, cors, fixture.context().timers(), list};
  int adopted = 0;
  sb::app::Handover worker(
      fixture.loop(), sb::app::Handover::Identity{0, 1, ""}, shared,
      [&](sb::net::TcpStream& stream, std::string_view, std::string_view, bool) {
        ++adopted;
        stream.close();
      },
      [] {});
  std::string error;
  REQUIRE(worker.open(ends[1], error) == 0);
  int gate = -1;
  worker.set_gate_handler([&](int fd) { gate = fd; });

  int pair[2];
  REQUIRE(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, pair) == 0);
  REQUIRE(relay.send_gate(0, pair[1]));
  REQUIRE(fixture.run_until([&] { return gate >= 0; }));
  CHECK(adopted == 0);
  // The descriptor the worker got is the far end of the supervisor's pair.
  REQUIRE(::write(pair[0], "gate", 4) == 4);
  char buffer[8] = {};
  CHECK(::read(gate, buffer, sizeof buffer) == 4);
  CHECK(std::string(buffer) == "gate");
  ::close(gate);
  ::close(pair[0]);

  // A worker that is not there cannot take one: the descriptor is closed.
  int spare[2];
  REQUIRE(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, spare) == 0);
  relay.detach(0);
  CHECK_FALSE(relay.send_gate(0, spare[1]));
  char byte = 0;
  CHECK(::read(spare[0], &byte, 1) == 0);  // end of stream: its other end is gone
  ::close(spare[0]);

  worker.close();
  relay.close_all();
  uv_close(reinterpret_cast<uv_handle_t*>(&pipe), nullptr);
  fixture.run();
}
