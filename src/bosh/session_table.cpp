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

Session& SessionTable::add(std::unique_ptr<Session> session, std::string_view peer) {
  Session* raw = session.release();
  index_.emplace(raw->sid(), raw);
  if (settings_.max_sessions_per_ip != 0) {
    auto entry = per_peer_.try_emplace(std::string(peer), 0).first;
    ++entry->second;
    raw->set_peer_key(&entry->first);
  }
  return *raw;
}

std::shared_ptr<const UpstreamTarget> SessionTable::share_target(UpstreamTarget&& target) {
  const auto same = [&](const UpstreamTarget& t) {
    return t.host == target.host && t.port == target.port && t.to == target.to &&
           t.from == target.from && t.lang == target.lang && t.version == target.version;
  };
  if (!last_target_ || !same(*last_target_)) {
    last_target_ = std::make_shared<const UpstreamTarget>(std::move(target));
  }
  return last_target_;
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
  if (const std::string* key = session.peer_key()) {
    if (auto peer = per_peer_.find(*key); peer != per_peer_.end()) {
      session.set_peer_key(nullptr);  // the key may go with the entry
      if (--peer->second == 0) per_peer_.erase(peer);
    }
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
