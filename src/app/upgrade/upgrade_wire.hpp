// What the two daemons of an upgrade in place say to each other over their
// UpgradeChannel (upgrade.hpp has the whole sequence), and the byte form of each.
//
//   old -> new  kStart    the listening sockets (and the metrics board) to take
//   new -> old  kReady    configuration loaded, listeners and loop up: send them
//               kRefused  it cannot run (the reason); the old daemon keeps going
//   old -> new  kBatch    sessions and idle connections, with their sockets
//               kEnd      that was all: counts, and what could not move and why
//   new -> old  kTaken    every record read: let them go
//               kRefused  a record it cannot read (the reason): keep them
//   old -> new  kCommit   let go: they are yours
//               kAbort    the old daemon keeps them (timed out, or stopping)
//   old -> new  kForward  (after the commit) a client connection that stayed
//                         behind, passed on with its socket (successor_link.hpp):
//                         with the request it brought for a session that has
//                         moved, or idle, as a connection record
//
// Between a supervisor and its old workers' gates (supervisor_upgrade.hpp) the
// same kinds say: kStart (the channel to the new worker, one descriptor), kTaken
// (an EndMessage: the new worker holds these), kRefused, kCommit and kAbort.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace sb::app {

enum class UpgradeKind : std::uint8_t {
  kStart = 1,
  kReady = 2,
  kRefused = 3,
  kBatch = 4,
  kEnd = 5,
  kTaken = 6,
  kCommit = 7,
  kAbort = 8,
  kForward = 9,
};

// kStart: what each descriptor of the message is, in order.
struct StartMessage {
  struct Socket {
    std::string role;     // "http", "https", "metrics" (listeners) or "board"
    std::string address;  // the listen address it was opened with ("" for the board)
  };
  std::vector<Socket> sockets;
};
std::string encode(const StartMessage& message);
bool decode(std::string_view bytes, StartMessage& message, std::string& error);

// One thing that moves in a kBatch: a BOSH session (its record, its server
// link's record if the link travels, the client connections its requests are
// on), an idle client connection, or a WebSocket session (its record, its
// link's record). Its descriptors, in the message's order: the link's socket
// (if any), then one per connection, then the WebSocket's own.
struct MovingItem {
  enum class Type : std::uint8_t { kSession = 1, kIdle = 2, kWebSocket = 3 };
  Type type = Type::kSession;
  std::string session;                   // bosh::SessionRecord or ws::WsRecord bytes
  std::string link;                      // xmpp::LinkRecord bytes, "" without a link
  std::vector<std::string> connections;  // http::ConnectionRecord bytes
  std::size_t fds() const {
    return (link.empty() ? 0 : 1) + connections.size() + (type == Type::kWebSocket ? 1 : 0);
  }
};
std::string encode(const std::vector<MovingItem>& batch);
bool decode(std::string_view bytes, std::vector<MovingItem>& batch, std::string& error);

// kEnd: the old daemon's account.
struct EndMessage {
  std::uint64_t sessions = 0;     // moved
  std::uint64_t connections = 0;  // idle connections moved
  std::uint64_t started_ns = 0;   // CLOCK_MONOTONIC when the upgrade was asked for
  // Sessions that stay behind and end, by reason ("busy", "websocket").
  std::vector<std::pair<std::string, std::uint64_t>> ended;
};
std::string encode(const EndMessage& message);
// kForward: a client connection that stayed with the old daemon after its
// sessions left; its one descriptor is the connection (or a TLS relay's end).
struct ForwardMessage {
  std::string request;  // a request as HTTP bytes (handover_wire.hpp), or empty
  std::string peer;     // the client's address; empty = the socket's own
  bool tls_relayed = false;
  std::string connection;  // no request: the idle connection's ConnectionRecord bytes
};
std::string encode(const ForwardMessage& message);
bool decode(std::string_view bytes, ForwardMessage& message, std::string& error);

// CLOCK_MONOTONIC in ns: one clock for the whole machine, so the old daemon's
// started_ns and the new daemon's now measure the upgrade between them.
std::uint64_t monotonic_ns();
bool decode(std::string_view bytes, EndMessage& message, std::string& error);

}  // namespace sb::app
