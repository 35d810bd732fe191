// The wire format of a hand-over: what travels over the IPC pipes (worker ->
// supervisor -> owning worker) together with a TCP connection whose request
// belongs to another worker's session (design.md, "Processes").
//
// Each hand-over is one frame, and exactly one socket travels with it (SCM_RIGHTS,
// libuv's uv_write2). A frame is an 8-byte header, the target worker's index and
// the payload's length as little-endian 32-bit numbers, then the payload: one
// byte giving the length of the client's address, that address as text (the
// connection's peer: what a PROXY protocol header named, or empty for the
// socket's own, which the receiver can read itself), and the request
// re-serialized as HTTP/1.x bytes. The owner feeds those bytes to a fresh
// HTTP connection on the adopted socket as if it had read them itself, so nothing
// of the sender's parser state has to travel.
//
// Why re-serialize rather than forward the bytes read: the HTTP connection parses
// in place out of the loop's shared read buffer and keeps no copy of a request's
// raw bytes (a million idle connections must not each hold one). The parsed
// request keeps everything the receiving side looks at (method, path, Origin,
// Content-Type, body, keep-alive), so the owner answers exactly as if the request
// had reached it directly.
//
// The same pipes carry control messages between the supervisor and a worker: a
// frame whose target is kControlTarget, with no socket, whose payload is a word
// naming the message, a newline and the message's body (ControlMessage). Today:
// "config" (supervisor -> worker: run this configuration, config_reload.hpp),
// "applied"/"refused" (the worker's answer), "listening" (worker ->
// supervisor: its listener is open, for the readiness notification) and "alive"
// (worker -> supervisor, empty: its heartbeat, heartbeat.hpp).
//
// A pipe is a byte stream: a frame may arrive in pieces, several may arrive in
// one read. FrameReader reassembles them. The socket of a frame arrives with the
// read that carries the frame's first byte, never later, so the receiver queues
// sockets as they come and gives one to each frame as it completes.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "http/exchange.hpp"

namespace sb::app {

inline constexpr std::size_t kFrameHeaderBytes = 8;
// Far above any request the HTTP layer accepts (1 MiB head + 16 MiB body): a
// bigger length means the stream is corrupt.
inline constexpr std::uint32_t kMaxFramePayload = 32u * 1024 * 1024;

// The target of a control frame; no worker has this index (at most 1024).
inline constexpr std::uint32_t kControlTarget = 0xffffffffu;

struct ControlMessage {
  std::string kind;  // "config", "applied", ...
  std::string body;
};
// A whole control frame, ready to write (no socket goes with it).
std::string encode_control(std::string_view kind, std::string_view body);
ControlMessage parse_control(std::string_view payload);

struct HandoverFrame {
  std::uint32_t target = 0;  // the worker that owns the request's session
  std::string request;       // the request as HTTP bytes
  std::string peer;          // the client's address; empty = the socket's own
};

// Header and payload in one string, ready for uv_write2. `peer` is cut to 255
// bytes (an address is at most 45).
std::string encode_frame(std::uint32_t target, std::string_view request, std::string_view peer = {});

class FrameReader {
 public:
  // Appends every frame completed by `bytes` to `out`. Returns false if the stream
  // is corrupt (a length over kMaxFramePayload); the reader is then useless.
  bool feed(std::string_view bytes, std::vector<HandoverFrame>& out);
  // True between frames (no partial frame buffered).
  bool between_frames() const { return partial_.empty(); }

 private:
  std::string partial_;  // bytes of the frame not yet complete
};

// `request` as HTTP/1.1 bytes (HTTP/1.0 if `http10`), with the headers the
// receiving connection looks at (X-Forwarded-For and Forwarded too: the receiver
// judges them against trusted_proxies as the sender did). nullopt for a method we cannot name
// (Method::kOther never reaches a handler, so never happens in practice).
std::optional<std::string> serialize_request(const http::Request& request, bool http10);

}  // namespace sb::app
