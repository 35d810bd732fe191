// The keeper's packet socket and its messages: an entry (BOSH or WebSocket)
// survives its byte form whole, a packet carries its descriptors and never a part of another, a full
// socket says so without blocking, damaged bytes and unknown kinds are refused,
// and a closed peer reads as "closed".
#include <doctest/doctest.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <memory>
#include <string>
#include <vector>

#include "app/keeper/keeper_link.hpp"
#include "app/keeper/keeper_wire.hpp"

using sb::app::KeeperKind;
using sb::app::KeeperLink;
using sb::app::KeeperMessage;
using sb::app::KeptEntry;

namespace {

struct Pair {
  Pair() {
    int fds[2];
    std::string error;
    REQUIRE(sb::app::make_keeper_pair(fds, error));
    keeper = std::make_unique<KeeperLink>(fds[0]);
    worker = std::make_unique<KeeperLink>(fds[1]);
  }
  std::unique_ptr<KeeperLink> keeper, worker;
};

ino_t inode_of(int fd) {
  struct stat st {};
  REQUIRE(::fstat(fd, &st) == 0);
  return st.st_ino;
}

KeptEntry entry(std::string sid, bool fd) {
  KeptEntry e;
  e.sid = std::move(sid);
  e.session = std::string("session\0record", 14);
  e.link = "link record";
  e.read = 1234567890123ull;
  e.written = 42;
  e.fd = fd;
  return e;
}

}  // namespace

TEST_CASE("a keeper message survives its byte form") {
  KeeperMessage m;
  m.kind = KeeperKind::kRestoreEnd;
  m.nonce = 77;
  m.entries.push_back(entry("w0.a", true));
  KeptEntry gone;
  gone.gone = true;
  gone.sid = "w0.b";
  m.entries.push_back(gone);
  m.entries.push_back(entry("w0.c", false));
  KeptEntry ws = entry("ws.77.0x5a", true);  // a WebSocket session: two sockets
  ws.websocket = true;
  ws.client_read = 99;
  ws.client_written = 1ull << 40;
  m.entries.push_back(ws);
  const std::string bytes = encode(m);
  CHECK(bytes.size() <= encoded_size(m.entries[0]) + encoded_size(m.entries[1]) +
                            encoded_size(m.entries[2]) + encoded_size(m.entries[3]) + 32);
  KeeperMessage back;
  std::string error;
  REQUIRE(decode(bytes, back, error));
  CHECK(back.kind == KeeperKind::kRestoreEnd);
  CHECK(back.nonce == 77);
  REQUIRE(back.entries.size() == 4);
  CHECK(back.entries[0].sid == "w0.a");
  CHECK(back.entries[0].session == m.entries[0].session);
  CHECK(back.entries[0].link == "link record");
  CHECK(back.entries[0].read == 1234567890123ull);
  CHECK(back.entries[0].written == 42);
  CHECK(back.entries[0].fd);
  CHECK(back.entries[1].gone);
  CHECK(back.entries[1].sid == "w0.b");
  CHECK_FALSE(back.entries[0].websocket);
  CHECK_FALSE(back.entries[2].fd);
  CHECK(back.entries[3].websocket);
  CHECK(back.entries[3].client_read == 99);
  CHECK(back.entries[3].client_written == 1ull << 40);
  CHECK(back.entries[3].read == 1234567890123ull);
  CHECK(back.entries[3].sockets() == 2);
  CHECK(back.fds() == 3);  // one for the BOSH session, two for the WebSocket one
}

TEST_CASE("damaged keeper messages are refused with a reason") {
  KeeperMessage m;
  m.entries.push_back(entry("w1.x", true));
  const std::string bytes = encode(m);
  KeeperMessage back;
  std::string error;
  CHECK_FALSE(decode("", back, error));
  CHECK_FALSE(decode(std::string(1, '\x09') + bytes.substr(1), back, error));
  CHECK(error.find("unknown kind") != std::string::npos);
  CHECK_FALSE(decode(bytes.substr(0, bytes.size() - 3), back, error));
  CHECK_FALSE(decode(bytes + "x", back, error));
  CHECK(error.find("bytes follow") != std::string::npos);
}

TEST_CASE("each packet comes whole, with its own descriptors") {
  Pair p;
  int a[2], b[2];
  REQUIRE(::pipe(a) == 0);
  REQUIRE(::pipe(b) == 0);
  std::string error;
  REQUIRE(p.worker->send("first", {a[0]}, error) == KeeperLink::Sent::kSent);
  REQUIRE(p.worker->send("second", {}, error) == KeeperLink::Sent::kSent);
  REQUIRE(p.worker->send("third", {b[0], b[1]}, error) == KeeperLink::Sent::kSent);
  std::string bytes;
  std::vector<int> fds;
  REQUIRE(p.keeper->receive(bytes, fds, 1000, error));
  CHECK(bytes == "first");
  REQUIRE(fds.size() == 1);
  CHECK(inode_of(fds[0]) == inode_of(a[0]));
  ::close(fds[0]);
  REQUIRE(p.keeper->receive(bytes, fds, 1000, error));
  CHECK(bytes == "second");
  CHECK(fds.empty());
  REQUIRE(p.keeper->receive(bytes, fds, 1000, error));
  CHECK(bytes == "third");
  REQUIRE(fds.size() == 2);
  CHECK(inode_of(fds[1]) == inode_of(b[1]));
  for (int fd : fds) ::close(fd);
  for (int fd : {a[0], a[1], b[0], b[1]}) ::close(fd);
  CHECK_FALSE(p.keeper->receive(bytes, fds, 50, error));
  CHECK(error == "timed out");
}

TEST_CASE("a full socket says so at once, and a closed peer reads as closed") {
  Pair p;
  const std::string big(KeeperLink::kMaxBytes, 'x');
  std::string error;
  int sent = 0;
  KeeperLink::Sent last = KeeperLink::Sent::kSent;
  while (sent < 10000) {
    last = p.worker->send(big, {}, error);
    if (last != KeeperLink::Sent::kSent) break;
    ++sent;
  }
  CHECK(last == KeeperLink::Sent::kFull);  // never blocks
  CHECK(sent > 1);
  std::string bytes;
  std::vector<int> fds;
  REQUIRE(p.keeper->receive(bytes, fds, 1000, error));
  CHECK(bytes.size() == big.size());
  CHECK(p.worker->send(big, {}, error) == KeeperLink::Sent::kSent);  // room again
  p.worker.reset();
  for (int i = 0; i < sent; ++i) REQUIRE(p.keeper->receive(bytes, fds, 1000, error));
  CHECK_FALSE(p.keeper->receive(bytes, fds, 1000, error));
  CHECK(error == "closed");
  KeeperLink alone(p.keeper->release());
  CHECK(alone.send("to nobody", {}, error) == KeeperLink::Sent::kFailed);
}
