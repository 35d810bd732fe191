#include "bosh/session_table.hpp"

#include "bosh/session.hpp"

namespace sb::bosh {

SessionTable::SessionTable(const EngineSettings& settings, base::TimerWheel& timers,
                           engine::SessionCounts& counts)
    : settings_(settings), timers_(timers), counts_(counts) {}

SessionTable::~SessionTable() {
  // Owned sessions: free the live ones too (their held requests were answered by
  // end_all() in an orderly shutdown; here we just release memory).
  std::vector<Session*> all;
  all.reserve(size_);
  for_each_live([&](Session* s) { all.push_back(s); });
  buckets_.clear();
  size_ = 0;
  for (Session* s : all) delete s;
  retired_.clear();
}

template <typename F>
void SessionTable::for_each_live(F&& f) const {
  for (Session* head : buckets_) {
    for (Session* s = head; s != nullptr;) {
      Session* next = s->index_next_;
      f(s);
      s = next;
    }
  }
}

std::size_t SessionTable::bucket_index(std::string_view sid) const {
  return std::hash<std::string_view>{}(sid) & (buckets_.size() - 1);
}

Session** SessionTable::bucket_of(std::string_view sid) { return &buckets_[bucket_index(sid)]; }

void SessionTable::grow_index() {
  std::vector<Session*> old;
  old.swap(buckets_);
  buckets_.assign(old.empty() ? 64 : old.size() * 2, nullptr);
  for (Session* head : old) {
    for (Session* s = head; s != nullptr;) {
      Session* next = s->index_next_;
      Session** bucket = bucket_of(s->sid());
      s->index_next_ = *bucket;
      *bucket = s;
      s = next;
    }
  }
}

Session* SessionTable::find(std::string_view sid) const {
  if (buckets_.empty()) return nullptr;
  Session* s = buckets_[bucket_index(sid)];
  while (s != nullptr && s->sid() != sid) s = s->index_next_;
  return s;
}

Session& SessionTable::add(std::unique_ptr<Session> session, std::string_view peer) {
  Session* raw = session.release();
  if (size_ >= buckets_.size()) grow_index();  // load factor at most 1
  Session** bucket = bucket_of(raw->sid());
  raw->index_next_ = *bucket;
  *bucket = raw;
  ++size_;
  // The count's per-address key (if it keeps one) doubles as the session's peer().
  raw->set_peer_key(counts_.add(peer));
  return *raw;
}

std::vector<Session*> SessionTable::live() const {
  std::vector<Session*> out;
  out.reserve(size_);
  for_each_live([&](Session* s) { out.push_back(s); });
  return out;
}

Session& SessionTable::restore(SessionRecord&& record) {
  const std::string peer = record.peer;
  return add(Session::from_record(*this, std::move(record)), peer);
}

base::LocalShared<engine::UpstreamTarget> SessionTable::share_target(
    engine::UpstreamTarget&& target) {
  const auto same = [&](const engine::UpstreamTarget& t) {
    return t.host == target.host && t.port == target.port && t.to == target.to &&
           t.from == target.from && t.lang == target.lang && t.version == target.version;
  };
  if (!last_target_ || !same(*last_target_)) {
    last_target_ = base::LocalShared<engine::UpstreamTarget>::make(std::move(target));
  }
  return last_target_;
}

base::LocalShared<std::string> SessionTable::share_version(std::string&& ver) {
  if (!last_version_ || *last_version_ != ver) {
    last_version_ = base::LocalShared<std::string>::make(std::move(ver));
  }
  return last_version_;
}

void SessionTable::retire(Session& session) { unindex(session, true); }

void SessionTable::move_out(Session& session) { unindex(session, false); }

void SessionTable::unindex(Session& session, bool ended) {
  if (buckets_.empty()) return;
  Session** link = bucket_of(session.sid());
  while (*link != nullptr && *link != &session) link = &(*link)->index_next_;
  if (*link == nullptr) return;  // not in the index (already retired)
  *link = session.index_next_;
  session.index_next_ = nullptr;
  --size_;
  if (ended && events_ != nullptr) {
    events_->session_ended(session.sid(), session.end_condition(), session.end_reason());
  }
  const std::string* key = session.peer_key();
  session.set_peer_key(nullptr);  // the key may go with the count's entry
  counts_.remove(key);
  retired_.emplace_back(&session);
  changed(session);
}

void SessionTable::collect() {
  // Destructors may retire nothing further, but be safe against growth anyway.
  while (!retired_.empty()) {
    if (watcher_ != nullptr) watcher_->sessions_freeing();
    std::vector<std::unique_ptr<Session>> batch;
    batch.swap(retired_);
  }
}

void SessionTable::end_all(Condition condition) {
  std::vector<Session*> all;
  all.reserve(size_);
  for_each_live([&](Session* s) { all.push_back(s); });
  for (Session* session : all) session->end(condition);
}

std::size_t SessionTable::held_requests() const {
  std::size_t held = 0;
  for_each_live([&held](const Session* s) { held += s->held_count(); });
  return held;
}

}  // namespace sb::bosh
