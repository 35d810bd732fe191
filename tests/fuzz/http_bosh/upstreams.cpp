// The in-memory XMPP server links of the fuzz world; see upstreams.hpp.
#include "http_bosh/upstreams.hpp"

#include "support/check.hpp"

namespace sb::fuzz {

// One link as the Session sees it. It reports its own death to the registry, so
// the fuzzer never delivers an event to a freed session or link.
class FakeUpstreams::Link final : public engine::Upstream {
 public:
  Link(FakeUpstreams& owner, std::size_t index) : owner_(owner), index_(index) {}
  ~Link() override { owner_.links_[index_].object_alive = false; }

  void send(std::string_view) override { check_usable("send()"); }
  void restart(const engine::UpstreamTarget&) override { check_usable("restart()"); }
  void close() override {
    check_usable("close()");
    owner_.links_[index_].client_closed = true;
    delete this;  // an Upstream frees itself after close()
  }

 private:
  void check_usable(const char* what) const {
    FUZZ_CHECK(!owner_.links_[index_].server_closed,
               std::string(what) + " on an upstream after upstream_closed(), link " +
                   std::to_string(index_));
  }

  FakeUpstreams& owner_;
  std::size_t index_;
};

std::unique_ptr<engine::Upstream> FakeUpstreams::open(const engine::UpstreamTarget& target,
                                                      engine::UpstreamEvents& events,
                                                      engine::StanzaFraming framing) {
  FUZZ_CHECK(!target.host.empty() && target.port != 0 && !target.to.empty(),
             "open() without a destination: " + target.host + " / " + target.to);
  FUZZ_CHECK(framing == engine::StanzaFraming::kBoshBody,
             "a BOSH session's elements must be fixed for <body/>");
  links_.push_back(Record{&events, false, false, false});
  if (fail_next) {
    fail_next = false;
    return nullptr;
  }
  links_.back().object_alive = true;
  return std::make_unique<Link>(*this, links_.size() - 1);
}

engine::UpstreamEvents* FakeUpstreams::reachable(std::uint32_t n) {
  if (links_.empty()) return nullptr;
  const Record& link = links_[index_of(n)];
  if (!link.object_alive || link.client_closed || link.server_closed) return nullptr;
  return link.events;
}

void FakeUpstreams::server_closed(std::uint32_t n) {
  if (!links_.empty()) links_[index_of(n)].server_closed = true;
}

std::size_t FakeUpstreams::alive() const {
  std::size_t count = 0;
  for (const Record& link : links_) count += link.object_alive ? 1 : 0;
  return count;
}

}  // namespace sb::fuzz
