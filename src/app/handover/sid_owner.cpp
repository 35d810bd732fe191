// Reading the owning worker out of a sid; see sid_owner.hpp.
#include "app/handover/sid_owner.hpp"

namespace sb::app {

std::string worker_sid_prefix(std::string_view node_id, std::uint32_t index) {
  std::string prefix;
  if (!node_id.empty()) prefix.append(node_id).append(".");
  prefix.append("w").append(std::to_string(index)).append(".");
  return prefix;
}

std::optional<std::uint32_t> sid_owner_worker(std::string_view sid, std::string_view node_id) {
  if (!node_id.empty()) {
    if (sid.size() <= node_id.size() || sid.substr(0, node_id.size()) != node_id ||
        sid[node_id.size()] != '.') {
      return std::nullopt;
    }
    sid.remove_prefix(node_id.size() + 1);
  }
  if (sid.empty() || sid.front() != 'w') return std::nullopt;
  sid.remove_prefix(1);
  // At most 4 digits: `workers` is at most 1024. Written without leading zeros.
  std::uint32_t index = 0;
  std::size_t digits = 0;
  while (digits < sid.size() && sid[digits] >= '0' && sid[digits] <= '9') {
    if (digits == 4) return std::nullopt;
    index = index * 10 + static_cast<std::uint32_t>(sid[digits] - '0');
    ++digits;
  }
  if (digits == 0 || digits >= sid.size() || sid[digits] != '.') return std::nullopt;
  if (digits > 1 && sid.front() == '0') return std::nullopt;
  return index;
}

}  // namespace sb::app
