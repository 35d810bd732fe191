// Router: where a stanza addressed to a JID goes, whichever of the stub's worker
// processes holds that JID.
//
// The kernel picks the worker for each new connection (SO_REUSEPORT), so nothing
// about a JID tells which worker holds it. The stub keeps a directory instead,
// partitioned over the workers: the DIRECTORY WORKER of a bare JID is
// fnv1a(bare) % N, and it records which worker holds that bare JID when that is
// another worker (its own sessions are in its local table already). So:
//
//   - a JID held by this worker is delivered at once (local table, no copy);
//   - otherwise the stanza goes to the bare JID's directory worker (kRoute), which
//     delivers it if it holds the JID itself or passes it on to the owner
//     (kDeliver): at most two hops, never a broadcast;
//   - a JID nobody holds gets the RFC 6120 service-unavailable error back
//     (messages and iq get/set; presence and errors are dropped silently).
//
// Memory: one local-table entry per bound session in its own worker, plus one
// directory entry in one other worker (for (N-1)/N of the sessions): constant per
// session whatever N is, which a replicated table or a directory in the parent
// would not give (the parent would also be one hot process in every lookup).
//
// Known limit (a test tool's choice): when resources of ONE bare JID are bound in
// several workers, the directory remembers only the most recent worker, so the
// others' resources cannot be reached from other workers. The scale runs use one
// resource per user. The directory is updated asynchronously (kRegister travels
// while the client reads its bind result), so a message sent within microseconds
// of a peer's bind, from another worker, can bounce.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <unordered_map>

#include "tools/stub/mesh.hpp"

namespace sb::stub {

class C2sSession;

struct RouterStats {
  std::uint64_t delivered_local = 0;    // stanzas written to a session of this worker
  std::uint64_t sent_to_directory = 0;  // kRoute frames sent
  std::uint64_t sent_to_owner = 0;      // kDeliver frames sent
  std::uint64_t bounced = 0;            // service-unavailable errors generated
  std::uint64_t dropped = 0;            // undeliverable, no error due
};

class Router final : public FrameSink {
 public:
  Router(std::size_t self, std::size_t procs) : self_(self), procs_(procs) {}

  void set_mesh(Mesh* mesh) { mesh_ = mesh; }

  // A bound session of this worker: the full JID if `resource` is not empty, else
  // any resource of `bare`. Null if none.
  C2sSession* find(std::string_view bare, std::string_view resource) const;
  // Adds a session that has just bound its full JID; removes it when it ends.
  void bind(C2sSession& session);
  void unbind(C2sSession& session);

  // Delivers `stanza` (its 'from' already stamped) to the JID `to`.
  void route(std::string_view to, std::string_view stanza);

  void on_frame(std::size_t from_proc, FrameKind kind, std::string_view address,
                std::string_view payload) override;
  void on_peer_lost(std::size_t proc) override;

  const RouterStats& stats() const { return stats_; }
  std::size_t bound_sessions() const { return bound_; }
  std::size_t directory_entries() const { return directory_.size(); }

 private:
  struct Owner {
    std::uint16_t proc = 0;
    std::uint16_t refs = 0;  // sessions of that bare JID the owner reported
  };
  struct Hash {
    using is_transparent = void;
    std::size_t operator()(std::string_view text) const;
  };

  std::size_t directory_of(std::string_view bare) const;
  // No session anywhere: answer with an error, or drop.
  void undeliverable(std::string_view stanza);

  std::size_t self_;
  std::size_t procs_;
  Mesh* mesh_ = nullptr;
  // Bare JID (a view into the first bound session's own JID) -> that session; the
  // other resources of the same bare JID hang off it (C2sSession::next_same_bare).
  std::unordered_map<std::string_view, C2sSession*, Hash> local_;
  // Bare JIDs this worker is the directory of, held by another worker.
  std::unordered_map<std::string, Owner, Hash, std::equal_to<>> directory_;
  std::size_t bound_ = 0;
  RouterStats stats_;
};

// "user@domain/res" -> "user@domain"; "res" is the part after the first '/'.
std::string_view bare_of(std::string_view jid);
std::string_view resource_of(std::string_view jid);

}  // namespace sb::stub
