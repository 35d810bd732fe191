// Which worker process owns a session, read from its sid.
//
// With several workers every sid starts with a routing prefix (see
// engine_settings.cpp): the node id and a dot when one is configured, then
// "w<index>." naming the worker that created the session, then the random part
// ("n1.w3.Xr5...", "w0.Xr5..."). Reading the owner back needs no shared table,
// which is what keeps a hand-over cheap with a hundred workers.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace sb::app {

// The prefix a worker puts in front of its sids ("n1.w3.", "w3.").
std::string worker_sid_prefix(std::string_view node_id, std::uint32_t index);

// The worker index named by `sid`'s prefix, or nullopt if the sid has no worker
// prefix for this node (another node's sid, a sid from a single-worker setup, or
// garbage).
std::optional<std::uint32_t> sid_owner_worker(std::string_view sid, std::string_view node_id);

}  // namespace sb::app
