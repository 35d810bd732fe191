// In-memory stand-ins for the HTTP exchange and (engine/fakes.hpp) the XMPP
// upstream, so the BOSH engine can be driven with no sockets at all.
#pragma once

#include <optional>
#include <string>

#include "engine/fakes.hpp"
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
  std::string body() const { return response && response->body ? *response->body : std::string(); }
  // Simulates the client's connection dropping.
  void drop() {
    if (watcher() != nullptr) watcher()->exchange_lost(*this);
  }
};

}  // namespace sb::test
