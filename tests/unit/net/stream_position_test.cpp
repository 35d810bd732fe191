// stream_position: the kernel's counts of what a process read from and wrote to
// a TCP connection, the same through a duplicate descriptor, unmoved by what
// the peer sends until it is read; refused for a socket that is not connected.
#include "net/stream_position.hpp"

#include <arpa/inet.h>
#include <doctest/doctest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <string>

using sb::net::StreamPosition;

namespace {
struct Connected {
  Connected() {
    listener = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t size = sizeof(address);
    REQUIRE(::bind(listener, reinterpret_cast<sockaddr*>(&address), size) == 0);
    REQUIRE(::getsockname(listener, reinterpret_cast<sockaddr*>(&address), &size) == 0);
    REQUIRE(::listen(listener, 1) == 0);
    client = ::socket(AF_INET, SOCK_STREAM, 0);
    REQUIRE(::connect(client, reinterpret_cast<sockaddr*>(&address), size) == 0);
    server = ::accept(listener, nullptr, nullptr);
    REQUIRE(server >= 0);
  }
  ~Connected() {
    for (int fd : {listener, client, server})
      if (fd >= 0) ::close(fd);
  }
  int listener = -1, client = -1, server = -1;
};

StreamPosition position_of(int fd) {
  StreamPosition p;
  std::string error;
  REQUIRE(sb::net::stream_position(fd, p, error));
  return p;
}

void settle() { ::usleep(20000); }  // loopback acknowledges within microseconds
}  // namespace

TEST_CASE("a connection's position moves with what this side reads and writes") {
  Connected c;
  const StreamPosition start = position_of(c.client);
  REQUIRE(::write(c.client, "hello", 5) == 5);
  settle();
  StreamPosition now = position_of(c.client);
  CHECK(now.written == start.written + 5);
  CHECK(now.read == start.read);
  // The peer's bytes do not move it until they are read.
  REQUIRE(::write(c.server, "abcdefg", 7) == 7);
  settle();
  CHECK(position_of(c.client) == now);
  char buffer[4];
  REQUIRE(::read(c.client, buffer, 3) == 3);
  CHECK(position_of(c.client).read == start.read + 3);
  // A duplicate is the same connection: it sees the same counts and moves them.
  const int copy = ::dup(c.client);
  CHECK(position_of(copy) == position_of(c.client));
  REQUIRE(::write(copy, "xy", 2) == 2);
  settle();
  CHECK(position_of(c.client).written == start.written + 7);
  ::close(copy);
}

TEST_CASE("a socket that is not connected has no position") {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  StreamPosition p;
  std::string error;
  CHECK_FALSE(sb::net::stream_position(fd, p, error));
  CHECK_FALSE(error.empty());
  ::close(fd);
  int pipe_fds[2];
  REQUIRE(::pipe(pipe_fds) == 0);
  CHECK_FALSE(sb::net::stream_position(pipe_fds[0], p, error));
  ::close(pipe_fds[0]);
  ::close(pipe_fds[1]);
}
