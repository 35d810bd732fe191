// The supervisor's relay, for the hang watch: read_now() reads what a worker's
// pipe holds at once, without the loop turning (so a heartbeat waiting there
// counts before the worker is called silent), has_unread() sees bytes still
// waiting, and a pipe the relay does not read makes read_now() say so rather than
// report silence.
#include <doctest/doctest.h>
#include <sys/socket.h>
#include <unistd.h>

#include <string>
#include <vector>

#include "app/handover/handover_relay.hpp"
#include "app/handover/handover_wire.hpp"
#include "net/loop_fixture.hpp"

using sb::app::ControlMessage;
using sb::app::HandoverRelay;
using sb::net::test::LoopFixture;

TEST_CASE("hang watch: the relay reads a worker's pipe on demand, and knows when it cannot") {
  LoopFixture fixture;
  HandoverRelay relay(fixture.loop(), 2);
  std::vector<std::string> heard;
  relay.set_control_handler([&](std::uint32_t worker, const ControlMessage& message) {
    heard.push_back(std::to_string(worker) + ":" + message.kind);
  });
  int ends[2];
  REQUIRE(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, ends) == 0);
  uv_pipe_t pipe{};
  uv_pipe_init(fixture.loop(), &pipe, 1);
  REQUIRE(uv_pipe_open(&pipe, ends[0]) == 0);
  relay.attach(0, &pipe);

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
