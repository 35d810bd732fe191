// SessionRecord: a BOSH session as plain data, and its versioned byte form.
//
// This is what carries a session out of the process that runs it: to the next
// binary on an upgrade in place, and later to storage that
// outlives a crash. It holds everything the session's behaviour depends on: the
// negotiated parameters, the rid window (requests held, with how much of their
// wait is left, and requests that came early), the responses kept for a resend,
// the server's bytes not yet delivered, acknowledgements and key sequencing, and
// the inactivity time left. Times are durations measured at capture, never clock
// readings: the next process has a clock of its own.
//
// What it does not hold are the sockets: the client connections of the held and
// early requests and the server link travel beside the record (SCM_RIGHTS), in
// the order the record lists them (Session::resume takes them so).
//
// The byte form starts with its format version. A build reads every version up to
// its own (kSessionRecordVersion) and refuses a newer one with a clear reason, so
// the old daemon can keep its sessions when the new one cannot read them.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "bosh/client_request.hpp"
#include "engine/condition.hpp"
#include "engine/upstream.hpp"

namespace sb::bosh {

// 1: the first format (this build).
inline constexpr std::uint32_t kSessionRecordVersion = 1;

struct SessionRecord {
  enum class State : std::uint8_t { kOpening, kOpen, kEnded };
  struct Held {
    std::uint64_t rid = 0;
    std::uint64_t wait_left_ms = 0;  // until it is answered empty
    // Its client connection is still there (and travels with the record); if
    // not, lost_for_ms says since when it is gone (the request keeps its place
    // for a resend, §14).
    bool connected = true;
    std::uint64_t lost_for_ms = 0;
  };
  struct Cached {
    std::uint64_t rid = 0;
    std::string body;
    std::uint64_t age_ms = 0;  // since it was sent (`time` in a report, §9.3)
  };

  std::string sid;
  std::string peer;  // the creating client's address, kept with a per-address cap
  // SessionParams
  std::uint32_t wait = 0, hold = 0, inactivity = 0, polling = 0, maxpause = 0;
  bool acks = false;
  std::optional<std::string> ver;  // none: a legacy client (HTTP error codes)
  engine::UpstreamTarget target;
  std::string content_type;  // empty: the default
  // The server's stream header, while the creation response still needs it.
  std::optional<engine::StreamHeader> server;

  State state = State::kOpening;
  engine::Condition end_condition = engine::Condition::kNone;
  bool upstream_dead = false;  // no server link travels with the record
  std::uint64_t creation_rid = 0;
  std::uint64_t last_rid = 0;
  std::uint64_t inactivity_left_ms = 0;     // with nothing held: until the session ends
  std::uint64_t since_last_arrival_ms = 0;  // overactivity (§11)
  bool last_was_empty_poll = false;
  bool last_response_empty = false;

  std::vector<Held> held;             // oldest first
  std::vector<ClientRequest> early;   // each with its client connection
  std::vector<Cached> cache;          // oldest first
  std::optional<std::string> outbox;  // server bytes not yet delivered (or the terminal body)
  std::optional<std::string> key;     // key sequencing: the hash the next key must match
  std::uint64_t report_rid = 0;       // a response the client missed (§9.3), 0 = none
  std::uint64_t report_ms = 0;

  // Client connections that travel with the record: the connected held requests,
  // then the early ones.
  std::size_t connections() const;
};

std::string encode(const SessionRecord& record);
// Reads a record written by this build or an earlier one. False, with the reason
// in `error`, for a newer version or bytes that are not a whole, sane record.
bool decode(std::string_view bytes, SessionRecord& record, std::string& error);

}  // namespace sb::bosh
