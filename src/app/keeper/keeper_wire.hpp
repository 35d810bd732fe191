// What a worker and its keeper (keeper.hpp) say to each other, and the byte
// form of each message. One message is one SOCK_SEQPACKET packet (keeper_link.hpp):
// its first byte is its kind, the descriptors ride with it.
//
//   worker -> keeper  kUpdate      sessions kept or changed, and sessions gone
//                     kRecover     a worker (re)starting asks for what is kept
//   keeper -> worker  kRestore     kept sessions, with their sockets
//                     kRestoreEnd  that was all (answers kRecover's nonce)
//                     kResync      a keeper started again after its predecessor
//                                  died: send every session again, sockets too
//
// The worker's end of the pair outlives the worker (the supervisor keeps it for
// the slot's next process), so whatever a dying worker sent is still read, in
// order, before the next process's kRecover.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace sb::app {

enum class KeeperKind : std::uint8_t {
  kUpdate = 1,
  kRecover = 2,
  kRestore = 3,
  kRestoreEnd = 4,
  kResync = 5,
};

// One session as the keeper holds it, BOSH or WebSocket. `fd`: its sockets ride
// with this entry, in the message's descriptor order: a BOSH session's server
// link; a WebSocket session's client connection, then its server link.
struct KeptEntry {
  bool gone = false;       // the session ended or left: drop it and close its sockets
  bool websocket = false;  // `session` is a ws::WsRecord, and the client's socket is kept
  std::string sid;         // the key (a WebSocket session's is made up: ws_key())
  std::string session;     // bosh::SessionRecord or ws::WsRecord bytes
  std::string link;        // xmpp::LinkRecord bytes
  // Where the session stood in the server connection's byte streams when the
  // record was taken (net/stream_position.hpp): a restarted worker compares.
  std::uint64_t read = 0;
  std::uint64_t written = 0;
  // The same for a WebSocket session's client connection.
  std::uint64_t client_read = 0;
  std::uint64_t client_written = 0;
  bool fd = false;
  // The descriptors that ride with it.
  std::size_t sockets() const { return fd ? (websocket ? 2 : 1) : 0; }
};

struct KeeperMessage {
  KeeperKind kind = KeeperKind::kUpdate;
  // kRecover / kRestoreEnd: which asking this answers. kUpdate: when the worker
  // sent it (CLOCK_MONOTONIC, µs), for the journal's lag.
  std::uint64_t nonce = 0;
  std::vector<KeptEntry> entries;
  std::size_t fds() const;
};

std::string encode(const KeeperMessage& message);
bool decode(std::string_view bytes, KeeperMessage& message, std::string& error);
// The bytes an entry adds to a message (to cut batches below the packet size).
std::size_t encoded_size(const KeptEntry& entry);

}  // namespace sb::app
