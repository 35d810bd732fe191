// The hand-over end to end inside one process: two "workers" (each a Handover,
// HTTP sockets and a handler) joined by a socketpair, as the supervisor would
// join them, and a real TCP client. A request for worker 1's session reaching
// worker 0 moves with its connection (SCM_RIGHTS), worker 1 answers it from the
// bytes that came along, and the connection stays open for worker 1's next
// answers. Pipelined requests cannot move; sids that name no other worker stay.
#include <doctest/doctest.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <memory>
#include <string>

#include "app/front/http_socket.hpp"
#include "app/handover/handover.hpp"
#include "app/log/log.hpp"
#include "net/listener.hpp"
#include "net/loop_fixture.hpp"

using sb::app::Handover;
using sb::app::HttpSocket;
using sb::app::HttpSocketList;
using sb::net::test::LoopFixture;

namespace {

// One worker: its sockets, a handler that routes through the Handover first and
// otherwise answers "worker I got: <body>" (the body stands for the sid).
class TestWorker final : public sb::http::Handler {
 public:
  TestWorker(LoopFixture& fixture, std::uint32_t index)
      : index_(index),
        shared_{*this, limits_, cors_, fixture.context().timers(), list_},
        handover_(
            fixture.loop(), Handover::Identity{index, 2, ""}, shared_,
            [this](sb::net::TcpStream& stream, std::string_view bytes, std::string_view peer,
                   bool tls_relayed) {
              last_peer = std::string(peer);
              last_tls_relayed = tls_relayed;
              HttpSocket::adopt(stream, shared_, bytes, peer, tls_relayed);
            },
            [this] { ++lost; }) {}

  void handle(sb::http::Request& request, sb::http::Exchange& exchange) override {
    if (handover_.route(request.body, request, exchange)) return;
    exchange.send(sb::http::Response::text(
        200, "text/plain",
        "worker " + std::to_string(index_) + " got: " + request.body + " from " + request.peer));
  }

  Handover& handover() { return handover_; }
  HttpSocket::Shared& shared() { return shared_; }
  void close() {
    handover_.close();
    list_.close_all();
  }
  int lost = 0;
  std::string last_peer;         // the client address of the last adopted connection
  bool last_tls_relayed = true;  // whether it came from a TLS relay (a TCP socket: no)

 private:
  std::uint32_t index_;
  sb::http::ConnectionLimits limits_;
  sb::http::CorsPolicy cors_;
  HttpSocketList list_;
  HttpSocket::Shared shared_;
  Handover handover_;
};

std::string post(const std::string& sid, const std::string& headers = "") {
  return "POST /http-bind HTTP/1.1\r\nHost: t\r\n" + headers +
         "Content-Length: " + std::to_string(sid.size()) + "\r\n\r\n" + sid;
}

// Worker 0 listening, worker 1 behind the pipe, and a connected client socket.
struct TwoWorkers : LoopFixture {
  TwoWorkers()
      : zero(*this, 0),
        one(*this, 1),
        listener(loop(), [this](sb::net::TcpStream& s) { HttpSocket::adopt(s, zero.shared()); }) {
    int fds[2];
    REQUIRE(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds) == 0);
    std::string error;
    REQUIRE(zero.handover().open(fds[0], error) == 0);
    REQUIRE(one.handover().open(fds[1], error) == 0);
    REQUIRE(listener.listen("127.0.0.1:0", 16, error) == 0);

    client = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(static_cast<std::uint16_t>(listener.bound_port()));
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    REQUIRE(connect(client, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0);
    fcntl(client, F_SETFL, fcntl(client, F_GETFL) | O_NONBLOCK);
  }

  ~TwoWorkers() {
    zero.close();
    one.close();
    listener.close();
    if (client >= 0) ::close(client);
    finish();
  }

  void send_text(const std::string& bytes) {
    REQUIRE(::send(client, bytes.data(), bytes.size(), MSG_NOSIGNAL) ==
            static_cast<ssize_t>(bytes.size()));
  }

  // Runs the loop until the client has received `text` (after what it has seen).
  bool receive(const std::string& text) {
    return run_until([&] {
      char buf[4096];
      const ssize_t n = ::recv(client, buf, sizeof buf, 0);
      if (n > 0) received.append(buf, static_cast<std::size_t>(n));
      return received.find(text) != std::string::npos;
    });
  }

  TestWorker zero;
  TestWorker one;
  sb::net::Listener listener;
  int client = -1;
  std::string received;
};

}  // namespace

TEST_CASE_FIXTURE(TwoWorkers, "a request for another worker's session moves with its connection") {
  send_text(post("w1.abc"));
  REQUIRE(receive("worker 1 got: w1.abc"));
  CHECK(zero.handover().counters().handed_over == 1);
  CHECK(one.handover().counters().adopted == 1);
  CHECK_FALSE(one.last_tls_relayed);  // a TCP socket, not a TLS relay's end
  CHECK(received.rfind("HTTP/1.1 200 OK\r\n", 0) == 0);

  // The connection now lives in worker 1: its next request goes straight there,
  received.clear();
  send_text(post("w1.def"));
  REQUIRE(receive("worker 1 got: w1.def"));
  CHECK(zero.handover().counters().handed_over == 1);
  // and one for worker 0's session moves it back.
  send_text(post("w0.ghi"));
  REQUIRE(receive("worker 0 got: w0.ghi"));
  CHECK(one.handover().counters().handed_over == 1);
  CHECK(zero.handover().counters().adopted == 1);
  CHECK(zero.lost == 0);
  CHECK(one.lost == 0);
}

TEST_CASE_FIXTURE(TwoWorkers, "pipelined requests cannot move: 503 for the first, the last moves") {
  send_text(post("w1.first") + post("w1.second"));
  REQUIRE(receive("worker 1 got: w1.second"));
  const auto busy = received.find("HTTP/1.1 503 ");
  REQUIRE(busy != std::string::npos);
  CHECK(busy < received.find("worker 1 got: w1.second"));
  CHECK(received.find("w1.first") == std::string::npos);
  CHECK(zero.handover().counters().busy == 1);
  CHECK(zero.handover().counters().handed_over == 1);
}

TEST_CASE_FIXTURE(
    TwoWorkers,
    "sids naming this worker or no worker stay here, beyond the count go to index % workers") {
  // w2 and w4 name indexes a crashed daemon with more workers had: 2 % 2 and 4 % 2
  // are this worker, whose keeper read their journals (app/keeper/journal.hpp).
  for (const std::string sid :
       {"w0.mine", "w2.beyond", "w4.beyond", "plain-sid", "n1.w1.othernode"}) {
    received.clear();
    send_text(post(sid));
    REQUIRE(receive("worker 0 got: " + sid));
  }
  CHECK(zero.handover().counters().handed_over == 0);
  CHECK(zero.handover().counters().busy == 0);
  received.clear();
  send_text(post("w9.beyond"));  // 9 % 2: worker 1's
  REQUIRE(receive("worker 1 got: w9.beyond"));
  CHECK(zero.handover().counters().handed_over == 1);
}

TEST_CASE_FIXTURE(TwoWorkers,
                  "the supervisor's end closing is reported once, requests then get 503") {
  const sb::app::LogLevel level = sb::app::log_level();
  sb::app::set_log_level(sb::app::LogLevel::kError);  // the expected warning is no news
  one.handover().close();                             // stands for the supervisor going away
  CHECK(run_until([&] { return zero.lost == 1; }));
  send_text(post("w1.abc"));
  REQUIRE(receive("HTTP/1.1 503 "));
  CHECK(zero.lost == 1);
  sb::app::set_log_level(level);
}

TEST_CASE_FIXTURE(TwoWorkers, "the client address of a PROXY header moves with the connection") {
  zero.shared().proxy_protocol = true;
  send_text("PROXY TCP4 203.0.113.9 127.0.0.1 40000 5280\r\n" + post("w1.abc"));
  REQUIRE(receive("worker 1 got: w1.abc from 203.0.113.9"));
  CHECK(one.last_peer == "203.0.113.9");
  // The connection lives in worker 1 now, which expects no header of its own.
  received.clear();
  send_text(post("w1.def"));
  REQUIRE(receive("worker 1 got: w1.def from 203.0.113.9"));
  send_text(post("w0.ghi"));
  REQUIRE(receive("worker 0 got: w0.ghi from 203.0.113.9"));
}

TEST_CASE_FIXTURE(TwoWorkers, "without its PROXY header a connection is closed unanswered") {
  zero.shared().proxy_protocol = true;
  send_text(post("w0.abc"));
  bool closed = false;
  REQUIRE(run_until([&] {
    char buf[256];
    const ssize_t n = ::recv(client, buf, sizeof buf, 0);
    if (n > 0) received.append(buf, static_cast<std::size_t>(n));
    closed = n == 0 || (n < 0 && errno == ECONNRESET);
    return closed;
  }));
  CHECK(received.empty());
}

TEST_CASE_FIXTURE(TwoWorkers,
                  "X-Forwarded-For from a trusted peer names the client, in both workers") {
  std::string error;
  const auto trusted = sb::app::TrustedProxies::parse("127.0.0.0/8", error);
  REQUIRE(trusted.has_value());
  zero.shared().trusted = &*trusted;
  one.shared().trusted = &*trusted;
  send_text(post("w0.abc", "X-Forwarded-For: 198.51.100.4, 127.0.0.5\r\n"));
  REQUIRE(receive("worker 0 got: w0.abc from 198.51.100.4"));
  send_text(post("w1.abc", "X-Forwarded-For: 198.51.100.5\r\n"));
  REQUIRE(receive("worker 1 got: w1.abc from 198.51.100.5"));
  // A request without the header is the proxy's own.
  send_text(post("w1.def"));
  REQUIRE(receive("worker 1 got: w1.def from 127.0.0.1"));
}
