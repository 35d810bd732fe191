// Ledger: exact accounting of the chat messages a generator process sends
// between its own sessions.
//
// Every message carries, in its body text, its sender and receiver (indices in
// this process), a sequence number per sender->receiver pair and its INTENDED
// send time (the open-loop schedule's slot, not the moment it left). The
// receiver's side of the pair remembers the highest sequence seen and the gaps
// below it, so each arrival is exactly one of: first copy in order, first copy
// of a message that was overtaken (reordered), or a duplicate. At the end,
// lost = sent - first copies received. Latency runs from the intended time, so
// a generator or server that falls behind shows up as latency instead of being
// hidden by a delayed send (no coordinated omission).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace sb::soak {

class Ledger {
 public:
  // kEcho: the receiver's own outgoing message came back to it.
  enum class Outcome { kFirst, kReordered, kDuplicate, kEcho, kForeign };

  // The body text of the next message from `sender` to `receiver`, padded with 'x'
  // to `size` bytes.
  std::string compose(std::uint32_t sender, std::uint32_t receiver, std::uint64_t intended_ns,
                      std::size_t size);

  // Classifies a received body. For kFirst and kReordered `latency_ns` is set.
  Outcome receive(std::uint32_t receiver, std::string_view body, std::uint64_t now_ns,
                  std::uint64_t& latency_ns);

  std::uint64_t sent() const { return sent_; }
  std::uint64_t unique_received() const { return unique_; }
  // Sent and not (yet) received: in flight during the run, lost at its end.
  std::uint64_t outstanding() const { return sent_ - unique_ - written_off_ - in_doubt_; }
  // `session` was cut for good (--drop over WebSocket). The messages in flight
  // TO it can never arrive: they are written off, and their count returned. The
  // ones it sent that have not arrived yet may still be on their way through
  // the server (the frame left before the cut) or may have died with the
  // connection: they are "in doubt", no longer outstanding, and one that does
  // arrive later is a first copy, not a duplicate. Walks every pair: a rare event.
  std::uint64_t write_off(std::uint32_t session);
  std::uint64_t written_off() const { return written_off_; }
  // Sent by a cut session and never seen: cut off with it, counted at the end.
  std::uint64_t in_doubt() const { return in_doubt_; }
  // "from->to: sent S, highest H, missing [..]" for up to `max` pairs with a loss.
  std::string describe_losses(std::size_t max) const;

 private:
  struct Pair {
    std::uint32_t sent = 0;
    std::uint32_t highest = 0;
    std::vector<std::uint32_t> missing;   // sequence numbers below `highest` not yet seen
    std::vector<std::uint32_t> in_doubt;  // not yet seen when the sender was cut
  };
  static std::uint64_t key(std::uint32_t sender, std::uint32_t receiver) {
    return static_cast<std::uint64_t>(sender) << 32 | receiver;
  }
  std::unordered_map<std::uint64_t, Pair> pairs_;
  std::uint64_t sent_ = 0;
  std::uint64_t unique_ = 0;
  std::uint64_t written_off_ = 0;
  std::uint64_t in_doubt_ = 0;
};

}  // namespace sb::soak
