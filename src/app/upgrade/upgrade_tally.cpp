// Adding up an upgrade's account; see upgrade_tally.hpp.
#include "app/upgrade/upgrade_tally.hpp"

#include <algorithm>
#include <charconv>
#include <cstdio>

namespace sb::app {
namespace {
bool number(std::string_view text, std::uint64_t& out) {
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), out);
  return ec == std::errc() && end == text.data() + text.size() && !text.empty();
}
}  // namespace

std::uint64_t reason_total(const ReasonCounts& counts) {
  std::uint64_t total = 0;
  for (const auto& entry : counts) total += entry.second;
  return total;
}

std::string reason_list(const ReasonCounts& counts) {
  std::string text;
  for (const auto& [reason, count] : counts) {
    if (count > 0) text += (text.empty() ? "" : ", ") + reason + " " + std::to_string(count);
  }
  return text;
}

void UpgradeTally::add(const UpgradeTally& other) {
  moved += other.moved;
  for (const auto& [reason, count] : other.ended) ended[reason] += count;
  if (other.started_ns != 0 && (started_ns == 0 || other.started_ns < started_ns)) {
    started_ns = other.started_ns;
  }
}

std::uint64_t UpgradeTally::ended_total() const { return reason_total(ended); }

std::string UpgradeTally::text() const {
  std::string out = std::to_string(moved) + " " + std::to_string(started_ns);
  for (const auto& [reason, count] : ended) {
    if (count > 0) out += " " + reason + "=" + std::to_string(count);
  }
  return out;
}

bool UpgradeTally::parse(std::string_view text, UpgradeTally& out) {
  UpgradeTally tally;
  std::size_t field = 0;
  while (!text.empty()) {
    const std::size_t space = text.find(' ');
    const std::string_view word = text.substr(0, space);
    text = space == std::string_view::npos ? std::string_view() : text.substr(space + 1);
    if (field == 0 && !number(word, tally.moved)) return false;
    if (field == 1 && !number(word, tally.started_ns)) return false;
    if (field >= 2) {
      const std::size_t equals = word.find('=');
      std::uint64_t count = 0;
      if (equals == 0 || equals == std::string_view::npos ||
          !number(word.substr(equals + 1), count)) {
        return false;
      }
      tally.ended[std::string(word.substr(0, equals))] += count;
    }
    ++field;
  }
  if (field < 2) return false;
  out = std::move(tally);
  return true;
}

std::string UpgradeTally::summary(std::uint64_t now_ns) const {
  const std::string reasons = reason_list(ended);
  const double seconds =
      started_ns == 0 ? 0.0 : static_cast<double>(now_ns - std::min(now_ns, started_ns)) / 1e9;
  char line[512];
  std::snprintf(line, sizeof line, "upgrade: %llu sessions moved, %llu ended (%s), %.3f s",
                static_cast<unsigned long long>(moved),
                static_cast<unsigned long long>(ended_total()),
                reasons.empty() ? "none" : reasons.c_str(), seconds);
  return line;
}

}  // namespace sb::app
