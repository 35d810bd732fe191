// KeptStore, the keeper's sessions: an entry comes back exactly as it was put,
// a newer one replaces it (keeping its socket unless a new one comes, closing
// the old one when one does), a drop closes its socket, an entry without any
// socket is not kept, a WebSocket entry keeps its client's socket beside the
// server's, and entries alike in all but a few bytes keep in a fraction of
// their size.
#include "app/keeper/kept_store.hpp"

#include <doctest/doctest.h>
#include <fcntl.h>
#include <unistd.h>

#include <map>
#include <string>

using sb::app::KeptEntry;
using sb::app::KeptStore;

namespace {
KeptEntry entry(const std::string& sid, std::uint64_t rid) {
  KeptEntry e;
  e.sid = sid;
  e.session = "session record of " + sid + " at rid " + std::to_string(rid) +
              std::string(200, 'x') + "<body xmlns='http://jabber.org/protocol/httpbind'/>";
  e.link = "xmlns='jabber:client' xmlns:stream='http://etherx.jabber.org/streams'";
  e.read = 1000 + rid;
  e.written = 2000 + rid;
  return e;
}

bool is_open(int fd) { return ::fcntl(fd, F_GETFD) != -1; }

int a_socket() {
  int fds[2];
  REQUIRE(::pipe(fds) == 0);
  ::close(fds[1]);
  return fds[0];
}

std::map<std::string, std::pair<KeptEntry, int>> contents(const KeptStore& store) {
  std::map<std::string, std::pair<KeptEntry, int>> out;
  store.for_each([&](const KeptEntry& e, int fd, int client_fd) {
    if (!e.websocket) CHECK(client_fd == -1);
    out[e.sid] = {e, fd};
  });
  return out;
}
}  // namespace

TEST_CASE("kept entries come back as they were put, the newest of each sid") {
  KeptStore store;
  const int a = a_socket();
  const int b = a_socket();
  store.put(entry("w0.a", 1), a);
  store.put(entry("w0.b", 1), b);
  store.put(entry("w0.a", 2), -1);  // a newer record, the same socket
  auto kept = contents(store);
  REQUIRE(kept.size() == 2);
  CHECK(kept["w0.a"].first.session == entry("w0.a", 2).session);
  CHECK(kept["w0.a"].first.link == entry("w0.a", 2).link);
  CHECK(kept["w0.a"].first.read == 1002);
  CHECK(kept["w0.a"].first.written == 2002);
  CHECK(kept["w0.a"].second == a);
  CHECK(kept["w0.b"].first.session == entry("w0.b", 1).session);
  // A restarted worker sends the socket again: the old copy closes.
  const int a2 = a_socket();
  store.put(entry("w0.a", 3), a2);
  CHECK_FALSE(is_open(a));
  CHECK(contents(store)["w0.a"].second == a2);
  store.drop("w0.b");
  CHECK_FALSE(is_open(b));
  CHECK(store.size() == 1);
  store.drop("w0.unknown");
  CHECK(store.size() == 1);
}

TEST_CASE("an entry without any socket is not kept, and the store closes what it holds") {
  int held = -1;
  {
    KeptStore store;
    store.put(entry("w1.none", 1), -1);
    CHECK(store.size() == 0);
    held = a_socket();
    store.put(entry("w1.x", 1), held);
    CHECK(is_open(held));
  }
  CHECK_FALSE(is_open(held));
}

TEST_CASE("entries alike keep in a fraction of their size") {
  KeptStore store;
  for (int i = 0; i < 100; ++i) store.put(entry("w2.s" + std::to_string(i), 7), a_socket());
  CHECK(store.size() == 100);
  CHECK(store.stored_bytes() * 3 < store.raw_bytes());
  auto kept = contents(store);
  CHECK(kept["w2.s42"].first.session == entry("w2.s42", 7).session);
}

TEST_CASE("a WebSocket entry keeps its client's socket, replaced and closed with the server's") {
  KeptStore store;
  KeptEntry ws = entry("ws.1.0x10", 1);
  ws.websocket = true;
  ws.client_read = 5;
  ws.client_written = 6;
  const int link = a_socket();
  const int client = a_socket();
  store.put(ws, link, client);
  ws.client_read = 50;
  store.put(ws, -1, -1);  // a newer record, the same sockets
  int seen_link = -1;
  int seen_client = -1;
  KeptEntry back;
  store.for_each([&](const KeptEntry& e, int fd, int client_fd) {
    back = e;
    seen_link = fd;
    seen_client = client_fd;
  });
  CHECK(back.websocket);
  CHECK(back.client_read == 50);
  CHECK(back.client_written == 6);
  CHECK(back.session == ws.session);
  CHECK(seen_link == link);
  CHECK(seen_client == client);
  // Sent again by a restarted worker: both old copies close.
  const int link2 = a_socket();
  const int client2 = a_socket();
  store.put(ws, link2, client2);
  CHECK_FALSE(is_open(link));
  CHECK_FALSE(is_open(client));
  store.drop("ws.1.0x10");
  CHECK_FALSE(is_open(link2));
  CHECK_FALSE(is_open(client2));
}
