// The stub's stanza routing over its workers. See router.hpp for the scheme.
#include "tools/stub/router.hpp"

#include "tools/stub/c2s_session.hpp"
#include "tools/stub/log.hpp"
#include "tools/stub/stanzas.hpp"

namespace sb::stub {

std::string_view bare_of(std::string_view jid) { return jid.substr(0, jid.find('/')); }

std::string_view resource_of(std::string_view jid) {
  const auto slash = jid.find('/');
  return slash == std::string_view::npos ? std::string_view() : jid.substr(slash + 1);
}

std::size_t Router::Hash::operator()(std::string_view text) const {
  // FNV-1a: the same value in every worker (std::hash makes no such promise).
  std::uint64_t h = 14695981039346656037ull;
  for (char c : text) {
    h ^= static_cast<unsigned char>(c);
    h *= 1099511628211ull;
  }
  return static_cast<std::size_t>(h);
}

std::size_t Router::directory_of(std::string_view bare) const { return Hash{}(bare) % procs_; }

C2sSession* Router::find(std::string_view bare, std::string_view resource) const {
  const auto it = local_.find(bare);
  if (it == local_.end()) return nullptr;
  if (resource.empty()) return it->second;
  for (C2sSession* s = it->second; s != nullptr; s = s->next_same_bare) {
    if (s->resource() == resource) return s;
  }
  return nullptr;
}

void Router::bind(C2sSession& session) {
  const std::string_view bare = session.bare();
  auto [it, inserted] = local_.try_emplace(bare, &session);
  if (!inserted) {
    session.next_same_bare = it->second->next_same_bare;
    it->second->next_same_bare = &session;
  }
  ++bound_;
  const std::size_t directory = directory_of(bare);
  if (procs_ > 1 && directory != self_ && mesh_ != nullptr) {
    mesh_->send(directory, FrameKind::kRegister, bare, {});
  }
}

void Router::unbind(C2sSession& session) {
  const std::string_view bare = session.bare();
  const auto it = local_.find(bare);
  if (it == local_.end()) return;
  if (it->second == &session) {
    C2sSession* next = session.next_same_bare;
    // The key views the departing session's own string: re-key on the next one.
    local_.erase(it);
    if (next != nullptr) local_.emplace(next->bare(), next);
  } else {
    C2sSession* s = it->second;
    while (s->next_same_bare != nullptr && s->next_same_bare != &session) s = s->next_same_bare;
    if (s->next_same_bare != &session) return;
    s->next_same_bare = session.next_same_bare;
  }
  session.next_same_bare = nullptr;
  --bound_;
  const std::size_t directory = directory_of(bare);
  if (procs_ > 1 && directory != self_ && mesh_ != nullptr) {
    mesh_->send(directory, FrameKind::kUnregister, bare, {});
  }
}

void Router::route(std::string_view to, std::string_view stanza) {
  const std::string_view bare = bare_of(to);
  if (C2sSession* target = find(bare, resource_of(to))) {
    ++stats_.delivered_local;
    target->deliver(stanza);
    return;
  }
  if (procs_ == 1 || mesh_ == nullptr) {
    undeliverable(stanza);
    return;
  }
  const std::size_t directory = directory_of(bare);
  if (directory != self_) {
    ++stats_.sent_to_directory;
    mesh_->send(directory, FrameKind::kRoute, to, stanza);
    return;
  }
  const auto it = directory_.find(bare);
  if (it == directory_.end() || it->second.proc == self_) {
    undeliverable(stanza);
    return;
  }
  ++stats_.sent_to_owner;
  mesh_->send(it->second.proc, FrameKind::kDeliver, to, stanza);
}

void Router::undeliverable(std::string_view stanza) {
  std::optional<std::string> error = bounce(stanza);
  if (!error) {
    ++stats_.dropped;
    return;
  }
  ++stats_.bounced;
  // Back to the sender, wherever it is. An error is never bounced, so this ends.
  const StanzaHead head = read_head(*error);
  route(value(head.to), *error);
}

void Router::on_frame(std::size_t from_proc, FrameKind kind, std::string_view address,
                      std::string_view payload) {
  switch (kind) {
    case FrameKind::kRegister: {
      auto [it, inserted] = directory_.try_emplace(std::string(address));
      Owner& owner = it->second;
      if (inserted || owner.proc != from_proc) {
        owner.proc = static_cast<std::uint16_t>(from_proc);  // the latest bind wins
        owner.refs = 1;
      } else if (owner.refs < 0xffff) {
        ++owner.refs;
      }
      return;
    }
    case FrameKind::kUnregister: {
      const auto it = directory_.find(address);
      if (it != directory_.end() && it->second.proc == from_proc && --it->second.refs == 0) {
        directory_.erase(it);
      }
      return;
    }
    case FrameKind::kRoute: route(address, payload); return;
    case FrameKind::kDeliver:
      if (C2sSession* target = find(bare_of(address), resource_of(address))) {
        ++stats_.delivered_local;
        target->deliver(payload);
      } else {
        undeliverable(payload);  // the owner left meanwhile
      }
      return;
  }
  log(LogLevel::kWarn, "mesh: frame of unknown kind from p" + std::to_string(from_proc));
}

void Router::on_peer_lost(std::size_t proc) {
  log(LogLevel::kDebug, "mesh: link to p" + std::to_string(proc) + " closed");
}

}  // namespace sb::stub
