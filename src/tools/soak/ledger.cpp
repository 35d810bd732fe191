// Ledger: the message body format "soak:<from>:<to>:<seq>:<intended_ns>:xxxx..."
// and the per-pair sequence bookkeeping.
#include "tools/soak/ledger.hpp"

#include <algorithm>
#include <charconv>

namespace sb::soak {

namespace {

constexpr std::string_view kTag = "soak:";
constexpr std::size_t kMaxGap = 100000;  // a larger jump is a foreign message, not a gap

bool field(std::string_view& text, std::uint64_t& out) {
  auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), out);
  if (ec != std::errc() || ptr == text.data() + text.size() || *ptr != ':') return false;
  text.remove_prefix(static_cast<std::size_t>(ptr - text.data()) + 1);
  return true;
}

}  // namespace

std::string Ledger::compose(std::uint32_t sender, std::uint32_t receiver, std::uint64_t intended_ns,
                            std::size_t size) {
  Pair& p = pairs_[key(sender, receiver)];
  ++p.sent;
  ++sent_;
  std::string out(kTag);
  out += std::to_string(sender);
  out += ':';
  out += std::to_string(receiver);
  out += ':';
  out += std::to_string(p.sent);
  out += ':';
  out += std::to_string(intended_ns);
  out += ':';
  if (out.size() < size) out.append(size - out.size(), 'x');
  return out;
}

Ledger::Outcome Ledger::receive(std::uint32_t receiver, std::string_view body, std::uint64_t now_ns,
                                std::uint64_t& latency_ns) {
  if (body.substr(0, kTag.size()) != kTag) return Outcome::kForeign;
  body.remove_prefix(kTag.size());
  std::uint64_t from = 0;
  std::uint64_t to = 0;
  std::uint64_t seq = 0;
  std::uint64_t intended = 0;
  if (!field(body, from) || !field(body, to) || !field(body, seq) || !field(body, intended))
    return Outcome::kForeign;
  if (from == receiver && to != receiver) return Outcome::kEcho;
  if (to != receiver || from > UINT32_MAX) return Outcome::kForeign;
  auto it = pairs_.find(key(static_cast<std::uint32_t>(from), receiver));
  if (it == pairs_.end() || seq == 0 || seq > it->second.sent) return Outcome::kForeign;
  Pair& p = it->second;
  const auto s = static_cast<std::uint32_t>(seq);
  latency_ns = now_ns > intended ? now_ns - intended : 0;
  if (s > p.highest) {
    if (s - p.highest - 1 > kMaxGap) return Outcome::kForeign;
    for (std::uint32_t m = p.highest + 1; m < s; ++m) p.missing.push_back(m);
    p.highest = s;
    ++unique_;
    return Outcome::kFirst;
  }
  auto gap = std::find(p.missing.begin(), p.missing.end(), s);
  if (gap != p.missing.end()) {
    p.missing.erase(gap);
    ++unique_;
    return Outcome::kReordered;
  }
  auto doubt = std::find(p.in_doubt.begin(), p.in_doubt.end(), s);
  if (doubt == p.in_doubt.end()) return Outcome::kDuplicate;
  // Sent before its sender was cut, and it made it after all.
  p.in_doubt.erase(doubt);
  --in_doubt_;
  ++unique_;
  return Outcome::kFirst;
}

std::uint64_t Ledger::write_off(std::uint32_t session) {
  std::uint64_t n = 0;
  for (auto& [k, p] : pairs_) {
    const bool to_it = (k & 0xffffffffu) == session;
    if (!to_it && (k >> 32) != session) continue;
    // Everything not yet seen: the gaps, and what was sent beyond the highest.
    std::vector<std::uint32_t> unseen = std::move(p.missing);
    p.missing.clear();
    for (std::uint32_t m = p.highest + 1; m <= p.sent; ++m) unseen.push_back(m);
    p.highest = p.sent;
    if (to_it) {
      n += unseen.size();  // its receiver is gone: a later copy is a duplicate
    } else {
      in_doubt_ += unseen.size();
      p.in_doubt.insert(p.in_doubt.end(), unseen.begin(), unseen.end());
    }
  }
  written_off_ += n;
  return n;
}

std::string Ledger::describe_losses(std::size_t max) const {
  std::string out;
  for (const auto& [k, p] : pairs_) {
    if (max == 0) break;
    if (p.highest == p.sent && p.missing.empty()) continue;  // in doubt is not lost
    --max;
    out += std::to_string(k >> 32) + "->" + std::to_string(k & 0xffffffffu) + ": sent " +
           std::to_string(p.sent) + ", highest " + std::to_string(p.highest) + ", missing";
    for (std::uint32_t m : p.missing) out += " " + std::to_string(m);
    out += "\n";
  }
  return out;
}

}  // namespace sb::soak
