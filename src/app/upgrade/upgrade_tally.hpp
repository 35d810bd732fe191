// UpgradeTally: what an upgrade in place moved and ended, added up, and the line
// that says so ("upgrade: N sessions moved, M ended (reasons), T s"). A lone
// daemon's taker fills one; with several workers each new worker sends its own
// to the supervisor as text (the "upgraded" control message), which adds them
// up and logs and writes the total.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <string_view>

namespace sb::app {

// Counts by reason (sessions ended, connections left behind), and their sum and
// text for a log line: "why n, why n", zeros left out, empty when there are none.
using ReasonCounts = std::map<std::string, std::uint64_t>;
std::uint64_t reason_total(const ReasonCounts& counts);
std::string reason_list(const ReasonCounts& counts);

struct UpgradeTally {
  std::uint64_t moved = 0;
  ReasonCounts ended;            // by reason: busy, websocket, tls, link, other
  std::uint64_t started_ns = 0;  // the earliest ask (CLOCK_MONOTONIC); 0: none

  void add(const UpgradeTally& other);
  std::uint64_t ended_total() const;
  // "<moved> <started_ns>[ <reason>=<count>]...", and back. False for text
  // that is not one (nothing is changed then).
  std::string text() const;
  static bool parse(std::string_view text, UpgradeTally& out);
  // The log line, timed from started_ns to `now_ns`.
  std::string summary(std::uint64_t now_ns) const;
};

}  // namespace sb::app
