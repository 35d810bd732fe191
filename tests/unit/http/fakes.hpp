// Test doubles for the HTTP layer: a Transport that records what the connection
// does to it, a Handler that records requests and answers now or later, an Exchange
// that records the one response sent through it, and a watcher that records losses.
// Plus Harness, which wires a Connection to them on a hand-driven TimerWheel.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "base/timer_wheel.hpp"
#include "http/connection.hpp"
#include "http/cors.hpp"
#include "http/exchange.hpp"
#include "http/limits.hpp"
#include "http/transport.hpp"

namespace sb::http::test {

class FakeTransport final : public Transport {
 public:
  struct Write {
    std::string head;
    std::shared_ptr<const std::string> body;
  };

  // The Date header changes every second: it is taken out of the recorded head
  // (so tests compare exact bytes) and kept in `dates`.
  void write(std::string head, std::shared_ptr<const std::string> body) override {
    if (closed) wrote_after_close = true;
    if (auto at = head.find("\r\nDate: "); at != std::string::npos) {
      const auto end = head.find("\r\n", at + 2);
      dates.push_back(head.substr(at + 8, end - (at + 8)));
      head.erase(at + 2, end - at);
    }
    writes.push_back({std::move(head), std::move(body)});
  }
  void close() override {
    closed = true;
    ++close_calls;
  }
  void pause_reading() override {
    paused = true;
    ++pause_calls;
  }
  void resume_reading() override {
    paused = false;
    ++resume_calls;
  }
  std::size_t queued_bytes() const override { return queued; }
  void switch_protocols(std::string head, std::string& first_bytes) override {
    if (closed || switched) wrote_after_close = true;
    switched = true;
    switch_head = std::move(head);
    switch_bytes = first_bytes;
  }

  // Everything written, as the peer would read it.
  std::string wire() const {
    std::string all;
    for (const auto& w : writes) {
      all += w.head;
      if (w.body) all += *w.body;
    }
    return all;
  }

  std::vector<Write> writes;
  std::vector<std::string> dates;
  std::size_t queued = 0;
  int close_calls = 0;
  int pause_calls = 0;
  int resume_calls = 0;
  bool closed = false;
  bool paused = false;
  bool wrote_after_close = false;
  bool switched = false;     // switch_protocols() was called
  std::string switch_head;   // the 101 it was given
  std::string switch_bytes;  // the bytes after the upgrade request
};

class FakeHandler final : public Handler {
 public:
  // Answers every request at once with `respond` unless `hold` is set; held
  // exchanges are kept in `exchanges` (in arrival order) to be answered later.
  void handle(Request& request, Exchange& exchange) override {
    requests.push_back(request);
    exchanges.push_back(&exchange);
    if (!hold) exchange.send(respond(request));
  }

  static Response echo(const Request& request) {
    return Response::text(200, "text/plain", request.path + ":" + request.body);
  }

  std::function<Response(const Request&)> respond = echo;
  std::vector<Request> requests;
  std::vector<Exchange*> exchanges;
  bool hold = false;
};

class RecordingWatcher final : public ExchangeWatcher {
 public:
  void exchange_lost(Exchange& exchange) override {
    lost.push_back(&exchange);
    if (on_lost) on_lost(exchange);
  }
  std::vector<Exchange*> lost;
  std::function<void(Exchange&)> on_lost;
};

class FakeExchange final : public Exchange {
 public:
  void send(Response response) override {
    ++sends;
    sent = std::move(response);
  }
  Response sent;
  int sends = 0;
};

struct Harness {
  explicit Harness(ConnectionLimits connection_limits = {}, CorsPolicy cors_policy = {})
      : limits(connection_limits), cors(std::move(cors_policy)) {
    connection = std::make_unique<Connection>(transport, handler, limits, cors, wheel, "192.0.2.7");
  }
  void feed(std::string_view bytes) { connection->feed(bytes); }
  // Moves the wheel's clock forward by `ms` (plus a tick, so due nodes fire).
  void advance(std::uint64_t ms) { wheel.advance(wheel.now_ms() + ms + base::TimerWheel::kTickMs); }

  base::TimerWheel wheel{1'000'000};
  FakeTransport transport;
  FakeHandler handler;
  ConnectionLimits limits;
  CorsPolicy cors;
  std::unique_ptr<Connection> connection;  // last: destroyed first
};

}  // namespace sb::http::test
