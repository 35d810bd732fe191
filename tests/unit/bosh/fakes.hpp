// In-memory stand-ins for the HTTP exchange and the XMPP upstream, so the BOSH
// engine can be driven with no sockets at all.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "bosh/upstream.hpp"
#include "http/exchange.hpp"

namespace sb::test {

struct FakeExchange final : http::Exchange {
  std::optional<http::Response> response;
  int sends = 0;
  void send(http::Response r) override {
    ++sends;
    response = std::move(r);
  }
  bool answered() const { return response.has_value(); }
  std::string body() const {
    return response && response->body ? *response->body : std::string();
  }
  // Simulates the client's connection dropping.
  void drop() {
    if (watcher() != nullptr) watcher()->exchange_lost(*this);
  }
};

struct FakeUpstream;

struct FakeUpstreamLog {
  std::vector<std::string> sent;
  int restarts = 0;
  bool closed = false;
  int opened = 0;
  bosh::UpstreamTarget last_target;
};

struct FakeUpstream final : bosh::Upstream {
  explicit FakeUpstream(FakeUpstreamLog& l) : log(l) {}
  void send(std::string_view bytes) override { log.sent.emplace_back(bytes); }
  void restart(const bosh::UpstreamTarget&) override { ++log.restarts; }
  void close() override {
    log.closed = true;
    delete this;  // an Upstream frees itself after close()
  }
  FakeUpstreamLog& log;
};

struct FakeFactory final : bosh::UpstreamFactory {
  FakeUpstreamLog log;
  bosh::UpstreamEvents* events = nullptr;
  bool fail = false;
  std::unique_ptr<bosh::Upstream> open(const bosh::UpstreamTarget& target,
                                       bosh::UpstreamEvents& e) override {
    ++log.opened;
    log.last_target = target;
    events = &e;
    if (fail) return nullptr;
    return std::make_unique<FakeUpstream>(log);
  }
  // The server sends its header and features in one read.
  void server_opens(std::string features = "<stream:features><mechanisms xmlns='urn:ietf:params:xml:ns:xmpp-sasl'><mechanism>PLAIN</mechanism></mechanisms></stream:features>") {
    events->upstream_opened({"stream-id-1", "example.com", "1.0"});
    events->upstream_stanza(std::move(features));
    events->upstream_batch_end();
  }
  void server_sends(std::string stanza) {
    events->upstream_stanza(std::move(stanza));
    events->upstream_batch_end();
  }
};

}  // namespace sb::test
