// UpgradeChannel: messages with descriptors between the old and the new daemon
// of an upgrade in place: in order, each with its own descriptors, larger than
// the socket's buffer while the other side reads, and clear failures for a
// closed channel, a silent peer and damaged framing.
#include <doctest/doctest.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <string>
#include <thread>
#include <vector>

#include "app/upgrade/upgrade_channel.hpp"
#include "app/upgrade/upgrade_wire.hpp"

using sb::app::UpgradeChannel;

namespace {

struct Pair {
  Pair() {
    int fds[2];
    std::string error;
    REQUIRE(sb::app::make_channel_pair(fds, error));
    a = std::make_unique<UpgradeChannel>(fds[0]);
    b = std::make_unique<UpgradeChannel>(fds[1]);
  }
  std::unique_ptr<UpgradeChannel> a, b;
};

ino_t inode_of(int fd) {
  struct stat st {};
  REQUIRE(::fstat(fd, &st) == 0);
  return st.st_ino;
}

}  // namespace

TEST_CASE("messages arrive in order, each with its own descriptors") {
  Pair p;
  int pipe1[2], pipe2[2];
  REQUIRE(::pipe(pipe1) == 0);
  REQUIRE(::pipe(pipe2) == 0);
  std::string error;
  REQUIRE(p.a->send(1, "first", {pipe1[0]}, 1000, error));
  REQUIRE(p.a->send(2, "", {}, 1000, error));
  REQUIRE(p.a->send(3, "third", {pipe2[0], pipe2[1]}, 1000, error));
  UpgradeChannel::Message m;
  REQUIRE(p.b->receive(m, 1000, error));
  CHECK(m.kind == 1);
  CHECK(m.bytes == "first");
  REQUIRE(m.fds.size() == 1);
  CHECK(inode_of(m.fds[0]) == inode_of(pipe1[0]));
  ::close(m.fds[0]);
  REQUIRE(p.b->receive(m, 1000, error));
  CHECK(m.kind == 2);
  CHECK(m.fds.empty());
  REQUIRE(p.b->receive(m, 1000, error));
  CHECK(m.kind == 3);
  REQUIRE(m.fds.size() == 2);
  CHECK(inode_of(m.fds[1]) == inode_of(pipe2[1]));
  for (int fd : m.fds) ::close(fd);
  for (int fd : {pipe1[0], pipe1[1], pipe2[0], pipe2[1]}) ::close(fd);
}

TEST_CASE(
    "batches far larger than the socket buffer, with 253 descriptors each, pass while the peer "
    "reads") {
  Pair p;
  int pipefd[2];
  REQUIRE(::pipe(pipefd) == 0);
  const std::vector<int> fds(UpgradeChannel::kMaxFds, pipefd[0]);
  const std::string big(4u << 20, 'x');
  constexpr int kMessages = 6;
  std::thread sender([&] {
    std::string error;
    for (int i = 0; i < kMessages; ++i) {
      CHECK(p.a->send(static_cast<std::uint8_t>(10 + i), big, fds, 10000, error));
    }
  });
  int received = 0;
  for (int i = 0; i < kMessages; ++i) {
    UpgradeChannel::Message m;
    std::string error;
    REQUIRE(p.b->receive(m, 10000, error));
    CHECK(m.kind == 10 + i);
    CHECK(m.bytes.size() == big.size());
    CHECK(m.fds.size() == fds.size());
    for (int fd : m.fds) ::close(fd);
    ++received;
  }
  sender.join();
  CHECK(received == kMessages);
  ::close(pipefd[0]);
  ::close(pipefd[1]);
}

TEST_CASE("too many descriptors for one message are refused before anything is sent") {
  Pair p;
  std::string error;
  const std::vector<int> fds(UpgradeChannel::kMaxFds + 1, 0);
  CHECK_FALSE(p.a->send(1, "x", fds, 100, error));
  CHECK_FALSE(error.empty());
}

TEST_CASE("the peer's end, its silence and damaged framing are told apart") {
  SUBCASE("closed") {
    Pair p;
    p.a.reset();
    UpgradeChannel::Message m;
    std::string error;
    CHECK_FALSE(p.b->receive(m, 1000, error));
    CHECK(error == "closed");
  }
  SUBCASE("silent") {
    Pair p;
    UpgradeChannel::Message m;
    std::string error;
    CHECK_FALSE(p.b->receive(m, 50, error));
    CHECK(error.find("in time") != std::string::npos);
  }
  SUBCASE("damaged") {
    Pair p;
    const char junk[] = "\x04\xff\xff\xff\xff\x00\x00";  // a length beyond the limit
    REQUIRE(::write(p.a->fd(), junk, 7) == 7);
    UpgradeChannel::Message m;
    std::string error;
    CHECK_FALSE(p.b->receive(m, 1000, error));
    CHECK(error.find("damaged") != std::string::npos);
  }
}

TEST_CASE("the upgrade messages read back as written, and a batch's items keep their parts") {
  using namespace sb::app;
  std::vector<MovingItem> batch(2);
  batch[0].session = "session-bytes";
  batch[0].link = "link-bytes";
  batch[0].connections = {"c1", "c2"};
  batch[1].type = MovingItem::Type::kIdle;
  batch[1].connections = {"idle"};
  CHECK(batch[0].fds() == 3);
  CHECK(batch[1].fds() == 1);
  std::vector<MovingItem> back;
  std::string error;
  REQUIRE(decode(encode(batch), back, error));
  REQUIRE(back.size() == 2);
  CHECK(back[0].link == "link-bytes");
  CHECK(back[0].connections == std::vector<std::string>{"c1", "c2"});
  CHECK(back[1].type == MovingItem::Type::kIdle);

  // An idle connection is one connection alone.
  batch[1].link = "oops";
  CHECK_FALSE(decode(encode(batch), back, error));

  EndMessage end;
  end.sessions = 3;
  end.ended = {{"busy", 1}, {"websocket", 2}};
  EndMessage end_back;
  REQUIRE(decode(encode(end), end_back, error));
  CHECK(end_back.sessions == 3);
  CHECK(end_back.ended == end.ended);
  const std::string bytes = encode(end);
  for (std::size_t cut = 0; cut < bytes.size(); ++cut) {
    CHECK_FALSE(decode(bytes.substr(0, cut), end_back, error));
  }
}

TEST_CASE("a connection passed on after the move reads back: with its request, or idle") {
  using namespace sb::app;
  ForwardMessage request;
  request.request = "POST /http-bind HTTP/1.1\r\nContent-Length: 0\r\n\r\n";
  request.peer = "203.0.113.7";
  request.tls_relayed = true;
  ForwardMessage back;
  std::string error;
  REQUIRE(decode(encode(request), back, error));
  CHECK(back.request == request.request);
  CHECK(back.peer == "203.0.113.7");
  CHECK(back.tls_relayed);
  CHECK(back.connection.empty());

  ForwardMessage idle;
  idle.connection = "connection-record-bytes";
  REQUIRE(decode(encode(idle), back, error));
  CHECK(back.request.empty());
  CHECK_FALSE(back.tls_relayed);
  CHECK(back.connection == "connection-record-bytes");
  const std::string bytes = encode(request);
  for (std::size_t cut = 0; cut < bytes.size(); ++cut) {
    CHECK_FALSE(decode(bytes.substr(0, cut), back, error));
  }
  CHECK_FALSE(decode(bytes + "x", back, error));
}

TEST_CASE("a supervisor's start message carries a channel per worker, past the old limit of 16") {
  using namespace sb::app;
  StartMessage start;
  start.sockets.push_back({"board", ""});
  for (int i = 0; i < 40; ++i) start.sockets.push_back({"worker", std::to_string(i)});
  StartMessage back;
  std::string error;
  REQUIRE(decode(encode(start), back, error));
  REQUIRE(back.sockets.size() == 41);
  CHECK(back.sockets[40].address == "39");
}
