// See session_counts.hpp.
#include "engine/session_counts.hpp"

namespace sb::engine {

const std::string* SessionCounts::add(std::string_view peer) {
  ++live_;
  if (caps_.max_sessions_per_ip == 0 && !caps_.track_peers) return nullptr;
  auto entry = per_peer_.try_emplace(std::string(peer), 0).first;
  ++entry->second;
  return &entry->first;
}

void SessionCounts::remove(const std::string* peer_key) {
  if (live_ > 0) --live_;
  if (peer_key == nullptr) return;
  if (auto peer = per_peer_.find(*peer_key); peer != per_peer_.end()) {
    if (--peer->second == 0) per_peer_.erase(peer);
  }
}

std::size_t SessionCounts::from(std::string_view peer) const {
  auto it = per_peer_.find(std::string(peer));
  return it == per_peer_.end() ? 0 : it->second;
}

}  // namespace sb::engine
