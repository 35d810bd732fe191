// TcpStream over real loopback sockets: bytes both ways, big writes in order, the
// drain and close lifecycles, EOF and write errors reported once.
#include <doctest/doctest.h>
#include <sys/socket.h>

#include <cstring>
#include <memory>
#include <string>

#include "net/connector.hpp"
#include "net/loop_fixture.hpp"

using sb::net::connect_tcp;
using sb::net::TcpStream;
using sb::net::test::LocalServer;
using sb::net::test::LoopFixture;
using sb::net::test::Recorder;

namespace {

struct Pair {
  TcpStream* client = nullptr;
  TcpStream* server = nullptr;
};

// A connected pair of streams: the server end already reads, the client end does not.
Pair open_pair(LoopFixture& fixture, Recorder& client_handler, Recorder& server_handler) {
  LocalServer server(fixture, server_handler);
  Pair pair;
  connect_tcp(fixture.loop(), "127.0.0.1", server.port, 2000, &client_handler,
              [&pair](int status, TcpStream* stream) {
                CHECK(status == 0);
                pair.client = stream;
              });
  CHECK(fixture.run_until([&] { return pair.client != nullptr && server.accepted == 1; }));
  pair.server = server.last_accepted;
  server.listener().close();
  CHECK(fixture.run_until([&] { return server.listener().closed(); }));
  return pair;
}

// 16 MB that no kernel buffer swallows at once, with no short period, so a lost,
// doubled or reordered chunk shows.
std::string make_pattern(std::size_t size) {
  std::string bytes(size, '\0');
  for (std::size_t i = 0; i < size; ++i) bytes[i] = static_cast<char>((i * 7 + i / 65521) & 0xff);
  return bytes;
}

}  // namespace

TEST_CASE_FIXTURE(LoopFixture, "bytes make a round trip and both ends see the peer address") {
  Recorder client;
  Recorder server;
  server.on_bytes = [](TcpStream& s, std::string_view bytes) { s.write(std::string(bytes)); };
  server.on_end = [](TcpStream& s, int) { s.close(); };
  Pair pair = open_pair(*this, client, server);
  REQUIRE(pair.client != nullptr);
  REQUIRE(pair.server != nullptr);

  CHECK(pair.client->peer_ip() == "127.0.0.1");
  CHECK(pair.server->peer_ip() == "127.0.0.1");
  CHECK(pair.client->handler() == &client);

  REQUIRE(pair.client->start_reading() == 0);
  CHECK(pair.client->reading());
  pair.client->write("hello ");
  pair.client->write("world", std::make_shared<const std::string>("!"));
  CHECK(run_until([&] { return client.received == "hello world!"; }));

  pair.client->close();
  run();
  CHECK(server.received == "hello world!");
  CHECK(server.read_ends == 1);
  CHECK(server.read_end_status == UV_EOF);
  CHECK(server.closed == 1);
  CHECK(client.closed == 1);
  CHECK(client.read_ends == 0);  // closing ourselves is not an end of reading
  CHECK(client.write_errors == 0);
  CHECK(server.write_errors == 0);
  finish();
}

TEST_CASE_FIXTURE(LoopFixture, "a large write arrives complete and in order, then drains") {
  Recorder client;
  Recorder server;
  const std::string pattern = make_pattern(16u << 20);
  std::size_t offset = 0;
  bool in_order = true;
  server.on_bytes = [&](TcpStream&, std::string_view bytes) {
    if (offset + bytes.size() > pattern.size() ||
        std::memcmp(bytes.data(), pattern.data() + offset, bytes.size()) != 0) {
      in_order = false;
    }
    offset += bytes.size();
  };
  server.on_end = [](TcpStream& s, int) { s.close(); };
  std::size_t queued_when_drained = 1;
  client.on_drain = [&](TcpStream& s) { queued_when_drained = s.queued_bytes(); };
  Pair pair = open_pair(*this, client, server);
  REQUIRE(pair.client != nullptr);

  // Three writes of both kinds, cut at odd places.
  const std::size_t a = 1000003;
  const std::size_t b = 2000029;
  pair.client->write(pattern.substr(0, a));
  pair.client->write(pattern.substr(a, b),
                     std::make_shared<const std::string>(pattern.substr(a + b, 7000001)));
  pair.client->write(pattern.substr(a + b + 7000001));
  CHECK(pair.client->queued_bytes() > 0);
  CHECK(pair.client->queued_bytes() <= pattern.size());

  CHECK(run_until([&] { return offset >= pattern.size() && client.drained > 0; }));
  CHECK(offset == pattern.size());
  CHECK(in_order);
  CHECK(client.drained == 1);
  CHECK(queued_when_drained == 0);
  CHECK(pair.client->queued_bytes() == 0);

  pair.client->close();
  run();
  CHECK(server.read_ends == 1);
  CHECK(server.closed == 1);
  CHECK(client.closed == 1);
  finish();
}

TEST_CASE_FIXTURE(LoopFixture,
                  "close is idempotent, on_closed comes once and the stream is freed") {
  Recorder never_connected;
  const std::size_t before = TcpStream::live_count();
  TcpStream* lonely = TcpStream::create(loop(), &never_connected);
  CHECK(TcpStream::live_count() == before + 1);
  lonely->close();
  lonely->close();
  CHECK(lonely->closing());
  lonely->write("ignored");  // after close: ignored, nothing queued
  CHECK(lonely->queued_bytes() == 0);
  CHECK(lonely->start_reading() == UV_EINVAL);
  run();
  CHECK(never_connected.closed == 1);
  CHECK(never_connected.write_errors == 0);
  CHECK(TcpStream::live_count() == before);
  finish();
}

TEST_CASE_FIXTURE(LoopFixture, "closing with writes pending cancels them silently") {
  Recorder client;
  Recorder server;
  Pair pair = open_pair(*this, client, server);
  REQUIRE(pair.client != nullptr);
  pair.server->stop_reading();  // let the writes pile up

  pair.client->write(make_pattern(16u << 20));
  CHECK(pair.client->queued_bytes() > 0);
  pair.client->close();
  run();
  CHECK(client.closed == 1);
  CHECK(client.write_errors == 0);
  CHECK(client.drained == 0);

  // The server end sees the end of the stream once, then closes.
  server.on_end = [](TcpStream& s, int) { s.close(); };
  REQUIRE(pair.server->start_reading() == 0);
  run();
  CHECK(server.read_ends == 1);
  CHECK(server.closed == 1);
  finish();
}

TEST_CASE_FIXTURE(LoopFixture, "half-close: EOF is reported once and the other direction goes on") {
  Recorder client;
  Recorder server;
  server.on_end = [](TcpStream& s, int) {
    s.write("ok");
    s.shutdown_after_writes();
  };
  client.on_end = [](TcpStream& s, int) { s.close(); };
  Pair pair = open_pair(*this, client, server);
  REQUIRE(pair.client != nullptr);
  REQUIRE(pair.client->start_reading() == 0);

  pair.client->write("bye");
  pair.client->shutdown_after_writes();
  pair.client->write("too late");  // after shutdown: ignored
  CHECK(run_until([&] { return client.closed == 1; }));
  CHECK(server.received == "bye");
  CHECK(server.read_ends == 1);
  CHECK(server.read_end_status == UV_EOF);
  CHECK(pair.server->start_reading() == UV_EOF);  // the read side stays ended
  CHECK(client.received == "ok");
  CHECK(client.read_ends == 1);
  CHECK(client.read_end_status == UV_EOF);

  pair.server->close();
  run();
  CHECK(server.read_ends == 1);
  CHECK(server.closed == 1);
  finish();
}

namespace {

// Closes the server end with a reset (SO_LINGER 0) instead of a FIN.
void reset(TcpStream& stream) {
  uv_os_fd_t fd = -1;
  REQUIRE(uv_fileno(reinterpret_cast<uv_handle_t*>(stream.handle()), &fd) == 0);
  const linger abort_on_close{1, 0};
  REQUIRE(setsockopt(fd, SOL_SOCKET, SO_LINGER, &abort_on_close, sizeof abort_on_close) == 0);
  stream.close();
}

}  // namespace

TEST_CASE_FIXTURE(LoopFixture, "a write to a reset connection is reported once, from the loop") {
  Recorder client;
  Recorder server;
  Pair pair = open_pair(*this, client, server);
  REQUIRE(pair.client != nullptr);

  // The client does not read, so only its writes can find out about the reset.
  reset(*pair.server);
  bool wrote = false;
  after(20, [&] {
    pair.client->write("into the void");
    CHECK(client.write_errors == 0);  // never from inside write()
    wrote = true;
  });
  CHECK(run_until([&] { return wrote && client.write_errors == 1; }));
  pair.client->write("again");  // after a write error: ignored
  CHECK(pair.client->queued_bytes() == 0);
  run();
  CHECK(client.write_errors == 1);
  CHECK(client.drained == 0);

  pair.client->close();
  run();
  CHECK(client.closed == 1);
  CHECK(server.closed == 1);
  finish();
}

TEST_CASE_FIXTURE(LoopFixture, "after a read error, writes are dropped without another report") {
  Recorder client;
  Recorder server;
  Pair pair = open_pair(*this, client, server);
  REQUIRE(pair.client != nullptr);
  REQUIRE(pair.client->start_reading() == 0);

  reset(*pair.server);
  CHECK(run_until([&] { return client.read_ends == 1; }));
  CHECK(client.read_end_status == UV_ECONNRESET);
  CHECK_FALSE(pair.client->reading());

  pair.client->write("into the void");
  CHECK(pair.client->queued_bytes() == 0);
  run();
  CHECK(client.write_errors == 0);
  CHECK(client.read_ends == 1);

  pair.client->close();
  run();
  CHECK(client.closed == 1);
  CHECK(server.closed == 1);
  finish();
}
