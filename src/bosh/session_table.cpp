#include "bosh/session_table.hpp"

#include "bosh/session.hpp"

namespace sb::bosh {

SessionTable::SessionTable(const EngineSettings& settings, net::TimerWheel& timers)
    : settings_(settings), timers_(timers) {}

SessionTable::~SessionTable() {
  // Owned sessions: free the live ones too (their held requests were answered by
  // end_all() in an orderly shutdown; here we just release memory).
  for (auto& [sid, session] : index_) delete session;
  index_.clear();
  retired_.clear();
}

Session* SessionTable::find(std::string_view sid) const {
  auto it = index_.find(sid);
  return it == index_.end() ? nullptr : it->second;
}

Session& SessionTable::add(std::unique_ptr<Session> session) {
  Session* raw = session.release();
  index_.emplace(raw->sid(), raw);
  if (settings_.max_sessions_per_ip != 0) ++per_peer_[std::string(raw->peer())];
  return *raw;
}

std::size_t SessionTable::sessions_from(std::string_view peer) const {
  auto it = per_peer_.find(std::string(peer));
  return it == per_peer_.end() ? 0 : it->second;
}

void SessionTable::retire(Session& session) {
  auto it = index_.find(session.sid());
  if (it == index_.end() || it->second != &session) return;
  index_.erase(it);
  if (events_ != nullptr) events_->session_ended(session.sid(), session.end_condition(), session.end_reason());
  if (auto peer = per_peer_.find(std::string(session.peer())); peer != per_peer_.end()) {
    if (--peer->second == 0) per_peer_.erase(peer);
  }
  retired_.emplace_back(&session);
}

void SessionTable::collect() {
  // Destructors may retire nothing further, but be safe against growth anyway.
  while (!retired_.empty()) {
    std::vector<std::unique_ptr<Session>> batch;
    batch.swap(retired_);
  }
}

void SessionTable::end_all(Condition condition) {
  std::vector<Session*> all;
  all.reserve(index_.size());
  for (auto& [sid, session] : index_) all.push_back(session);
  for (Session* session : all) session->end(condition);
}

}  // namespace sb::bosh
