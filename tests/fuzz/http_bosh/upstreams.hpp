// FakeUpstreams: the XMPP side of the fuzz world, in memory. It hands each new
// session an Upstream that records nothing but checks the Upstream contract (no
// call after the server closed the link; close() frees it), and it lets the
// fuzzer play the server: open the stream, send stanzas, end a batch, close.
//
// Upstreams are numbered in the order sessions opened them, which is also the
// order their sids were made (see deterministic_sids.hpp), so the script can say
// "the server of session 2".
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "engine/upstream.hpp"

namespace sb::fuzz {

class FakeUpstreams final : public engine::UpstreamFactory {
 public:
  std::unique_ptr<engine::Upstream> open(const engine::UpstreamTarget& target,
                                         engine::UpstreamEvents& events,
                                         engine::StanzaFraming framing) override;

  // The session side of upstream `n` (modulo the number opened) if the server may
  // still talk to it: opened, not closed by either side, not freed. Else null.
  engine::UpstreamEvents* reachable(std::uint32_t n);
  // The server ended link `n`: after upstream_closed() nothing more is delivered.
  void server_closed(std::uint32_t n);

  std::size_t opened() const { return links_.size(); }
  // Upstream objects not freed yet (must be 0 once every session is gone).
  std::size_t alive() const;

  bool fail_next = false;  // the next open() fails (could not connect)

 private:
  class Link;
  struct Record {
    engine::UpstreamEvents* events = nullptr;
    bool object_alive = false;   // the Upstream object exists
    bool client_closed = false;  // close() was called (it then freed itself)
    bool server_closed = false;  // upstream_closed() was delivered
  };
  std::size_t index_of(std::uint32_t n) const { return n % links_.size(); }

  std::vector<Record> links_;
};

}  // namespace sb::fuzz
