// An in-memory stand-in for the XMPP upstream (engine/upstream.hpp), so either
// transport's sessions can be driven with no sockets at all: the factory records
// what the session asked for and plays the server through the session's events.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "engine/upstream.hpp"

namespace sb::test {

struct FakeUpstreamLog {
  std::vector<std::string> sent;
  int restarts = 0;
  bool closed = false;
  int opened = 0;
  engine::UpstreamTarget last_target;
  std::optional<engine::StanzaFraming> framing;  // as the last open() asked
};

struct FakeUpstream final : engine::Upstream {
  explicit FakeUpstream(FakeUpstreamLog& l) : log(l) {}
  void send(std::string_view bytes) override { log.sent.emplace_back(bytes); }
  void restart(const engine::UpstreamTarget&) override { ++log.restarts; }
  void close() override {
    log.closed = true;
    delete this;  // an Upstream frees itself after close()
  }
  FakeUpstreamLog& log;
};

// Plays the server with the elements as given: a test passes them as the link
// would deliver them for the framing the session asked for.
struct FakeFactory final : engine::UpstreamFactory {
  FakeUpstreamLog log;
  engine::UpstreamEvents* events = nullptr;
  bool fail = false;
  std::unique_ptr<engine::Upstream> open(const engine::UpstreamTarget& target,
                                         engine::UpstreamEvents& e,
                                         engine::StanzaFraming framing) override {
    ++log.opened;
    log.last_target = target;
    log.framing = framing;
    events = &e;
    if (fail) return nullptr;
    return std::make_unique<FakeUpstream>(log);
  }
  // The server sends its header and features in one read.
  void server_opens(std::string features =
                        "<stream:features><mechanisms "
                        "xmlns='urn:ietf:params:xml:ns:xmpp-sasl'><mechanism>PLAIN</mechanism></"
                        "mechanisms></stream:features>") {
    events->upstream_batch_begin();  // one read carries both, as from a real server
    events->upstream_opened({"stream-id-1", "example.com", "1.0"});
    events->upstream_stanza(std::move(features));
    events->upstream_batch_end();
  }
  void server_sends(std::string stanza) {
    events->upstream_batch_begin();
    events->upstream_stanza(std::move(stanza));
    events->upstream_batch_end();
  }
};

}  // namespace sb::test
