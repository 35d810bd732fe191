// KeptStore: the keeper's sessions (keeper.hpp), kept small. A keeper holds one
// entry per session of its worker, idle ones included, so its bytes per session
// count against the idle budget beside the worker's own.
//
// An entry is one allocation: the sid, then the rest of the entry (positions and
// the two records) compressed with zlib (raw deflate, level 1) against a preset
// dictionary, the first entry the store ever took. The records of a worker's
// sessions differ in little but their sid, rids, times and cached bodies (the
// same server, the same stream declarations, the same empty bodies), so an
// idle session's ~350 bytes of records keep as well under 100. The index is keyed
// by a view of the sid inside the entry, so the sid is not stored twice.
#pragma once

#include <zlib.h>

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>

#include "app/keeper/keeper_wire.hpp"

namespace sb::app {

class KeptStore {
 public:
  KeptStore();
  ~KeptStore();
  KeptStore(const KeptStore&) = delete;
  KeptStore& operator=(const KeptStore&) = delete;

  // Keeps `entry` (replacing the one of its sid) with its server socket `fd` and,
  // for a WebSocket session, its client socket `client_fd` (-1 and -1: keep the
  // ones it had; an entry without any socket is not kept). The store owns the
  // sockets it holds and closes replaced ones.
  void put(const KeptEntry& entry, int fd, int client_fd = -1);
  // Forgets the sid's entry and closes its sockets.
  void drop(std::string_view sid);
  // Every entry, rebuilt, with its sockets (still the store's; client_fd -1 for BOSH).
  void for_each(const std::function<void(const KeptEntry&, int fd, int client_fd)>& visit) const;
  std::size_t size() const { return index_.size(); }
  // Bytes the entries take in their kept form, and as they came.
  std::size_t stored_bytes() const { return stored_bytes_; }
  std::size_t raw_bytes() const { return raw_bytes_; }

 private:
  struct Stored {
    std::unique_ptr<char[]> bytes;  // sid, then the compressed rest
    std::uint32_t sid_size = 0;
    std::uint32_t size = 0;      // of `bytes`
    std::uint32_t raw_size = 0;  // of the rest, uncompressed
    int fd = -1;
    int client_fd = -1;  // a WebSocket session's client connection
  };
  static void close_sockets(const Stored& stored);
  std::string compress(const std::string& raw);
  std::string expand(const Stored& stored) const;

  std::unordered_map<std::string_view, Stored> index_;
  std::string dictionary_;
  mutable z_stream deflate_{};
  mutable z_stream inflate_{};
  std::size_t stored_bytes_ = 0;
  std::size_t raw_bytes_ = 0;
};

}  // namespace sb::app
