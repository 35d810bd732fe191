// World: the whole BOSH request path of one worker, with no sockets, driven by a
// fuzz script (script.hpp) and checking its invariants after every step.
//
// Three client connections (http::Connection on a CheckedTransport, with a
// TapHandler in front of the Router), the Router sending /http-bind to a
// bosh::Endpoint on a SessionTable whose upstreams are FakeUpstreams, all on one
// hand-driven TimerWheel. Between two commands the world does what the event loop
// would: deliver bytes to connections that read, free retired sessions
// (SessionTable::collect, the uv_check of the worker), and destroy connections
// whose transport was closed (the socket's close callback), opening a fresh one in
// their place.
//
// Commands (c = connection 0..2, n = upstream number, see upstreams.hpp):
//   F c.s  bytes   raw bytes on connection c, read in chunks of s bytes (0: whole)
//   R c    bytes   a read delivered now even if the connection paused reading
//   P c.b  body    POST /http-bind with Content-Length; $k in the body becomes the
//                  sid of session k. b % 64 = read chunk size, b / 64 = flags:
//                  1 Origin, 2 Connection: close, 4 HTTP/1.0, 8 Expect:
//                  100-continue, 16 another path
//   H c.b  body    the same POST with chunked transfer coding (chunks of b % 64)
//   G c.b          b % 4: GET, HEAD, OPTIONS, DELETE on /http-bind; flags as P
//   E c            the peer closed (EOF)         D c   the owner drops connection c
//   Q c.n          the client leaves n bytes unread (transport backlog)
//   T ms           time passes (at most 600 s per command)
//   O n  from      the server opens its stream   S n  stanza   the server sends it
//   B n            the server's read ends        X n.k  detail  the server closes
//                                                  (how k % 3: closed, failed, stream error; detail payload)
//   V              the next upstream fails to connect
//   Z              shutdown: no new sessions, every session ends (system-shutdown)
#pragma once

#include <array>
#include <cstdint>
#include <deque>
#include <memory>
#include <string>
#include <string_view>

#include "base/timer_wheel.hpp"
#include "bosh/endpoint.hpp"
#include "bosh/session_table.hpp"
#include "bosh/settings.hpp"
#include "http/connection.hpp"
#include "http/cors.hpp"
#include "http/limits.hpp"
#include "http/router.hpp"
#include "http_bosh/http_side.hpp"
#include "http_bosh/script.hpp"
#include "http_bosh/upstreams.hpp"

namespace sb::fuzz {

class World {
 public:
  World();
  World(const World&) = delete;
  World& operator=(const World&) = delete;
  ~World();

  void run(const Command& command);
  // Lets time run out for every held request, shuts down, frees everything and
  // checks that every exchange was answered or lost exactly once.
  void finish();

 private:
  struct Client {
    Client(World& world, std::string peer);
    CheckedTransport transport;
    TapHandler taps;
    std::deque<std::string> inbox;                 // reads the connection has not taken yet
    std::unique_ptr<http::Connection> connection;  // last: destroyed first
  };
  static constexpr std::size_t kClients = 3;

  Client& client(std::uint32_t c) { return *clients_[c % kClients]; }
  void open_client(std::size_t index);
  void drop_client(std::size_t index);
  void queue_read(Client& client, std::string_view bytes, std::size_t chunk);
  void post(const Command& command, bool chunked);
  void simple_request(const Command& command);
  void server(const Command& command);
  void advance(std::uint64_t ms);
  void settle();  // one event loop turn: reads, collect(), closed sockets
  void check_invariants();

  bosh::EngineSettings settings_;
  engine::SessionCounts counts_{settings_};
  http::ConnectionLimits limits_;
  http::CorsPolicy cors_;
  base::TimerWheel wheel_{1'000'000};
  FakeUpstreams upstreams_;
  std::unique_ptr<bosh::SessionTable> table_;
  std::unique_ptr<bosh::Endpoint> endpoint_;
  std::unique_ptr<http::Router> router_;
  std::array<std::unique_ptr<Client>, kClients> clients_;
  bool finished_ = false;
};

}  // namespace sb::fuzz
