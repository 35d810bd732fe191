// The wire format of a hand-over: what travels over the IPC pipes (worker ->
// supervisor -> owning worker) together with a TCP connection whose request
// belongs to another worker's session (docs/architecture.md, "Processes").
//
// Each hand-over is one frame, and exactly one socket travels with it (SCM_RIGHTS,
// libuv's uv_write2). A frame is a 12-byte header, a marker (kFrameMagic), the
// target worker's index and the payload's length as little-endian 32-bit
// numbers, then the payload: one byte giving the length of the client's address,
// that address as text (the connection's peer: what a PROXY protocol header
// named, or empty for the socket's own, which the receiver can read itself), and
// the request re-serialized as HTTP/1.x bytes. The owner feeds those bytes to a
// fresh HTTP connection on the adopted socket as if it had read them itself, so
// nothing of the sender's parser state has to travel.
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
// naming the message, a newline and the message's body (ControlMessage). A frame
// whose target is kUpgradeGateTarget goes to a worker with one socket: its end of
// an upgrade in place's gate to the supervisor. Control messages today:
// "config" (supervisor -> worker: run this configuration, config_reload.hpp),
// "applied"/"refused" (the worker's answer), "listening" (worker ->
// supervisor: its listener is open, for the readiness notification), "alive"
// (worker -> supervisor, empty: its heartbeat, heartbeat.hpp) and "upgraded"
// (worker -> supervisor: what it took over in an upgrade in place).
//
// Sockets and frames are matched by where they are in the stream, never by
// counting. A pipe is a byte stream: a frame may arrive in pieces, several may
// arrive in one read. But the kernel ends every read right after the bytes a
// descriptor was sent with, and a sender sends a frame and its socket in one
// sendmsg() whose first bytes are the frame's header; so the socket of a hand-over
// frame arrives in the very read (chunk) that holds the frame's first byte, and no
// other hand-over frame begins in that chunk. FrameReader tells where each frame
// began (its offset in the stream); SocketQueue gives a frame the socket of the
// chunk it began in. A socket that was lost on the way (the receiver at its file
// limit: the kernel drops it and says MSG_CTRUNC) costs that one request, which is
// dropped; a socket no frame claims is closed. Neither can shift the pairing of
// any later frame, so a pipe cannot lose step. A corrupt header (which only a bug
// could write) is skipped by searching for the next marker: the reader re-syncs
// and keeps reading.
#pragma once

#include <cstddef>
#include <cstdint>
#include <deque>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <uv.h>

#include "http/exchange.hpp"

namespace sb::app {

inline constexpr std::size_t kFrameHeaderBytes = 12;
// The first four bytes of every frame, "SBf1" on the wire: where a reader that
// lost its place (a corrupt header) finds the next frame.
inline constexpr std::uint32_t kFrameMagic = 0x31664253u;
// Far above any request the HTTP layer accepts (1 MiB head + 16 MiB body): a
// bigger length means the stream is corrupt.
inline constexpr std::uint32_t kMaxFramePayload = 32u * 1024 * 1024;

// The target of a control frame; no worker has this index (at most 1024).
inline constexpr std::uint32_t kControlTarget = 0xffffffffu;
// The target of a frame that brings a worker the supervisor's end of an upgrade
// gate (app/upgrade/supervisor_upgrade.hpp): one socket comes with it, paired by
// place as a hand-over's is; its payload is empty.
inline constexpr std::uint32_t kUpgradeGateTarget = 0xfffffffeu;

struct ControlMessage {
  std::string kind;  // "config", "applied", ...
  std::string body;
};
// A whole control frame, ready to write (no socket goes with it).
std::string encode_control(std::string_view kind, std::string_view body);
// Queues one control frame on `pipe`; the frame frees itself once written.
// 0, or libuv's error (nothing is queued then).
int write_control(uv_stream_t* pipe, std::string_view kind, std::string_view body);
ControlMessage parse_control(std::string_view payload);

struct HandoverFrame {
  std::uint32_t target = 0;  // the worker that owns the request's session
  std::string request;       // the request as HTTP bytes
  std::string peer;          // the client's address; empty = the socket's own
  std::uint64_t start = 0;   // the offset of its first byte in the pipe's stream
};

// Header and payload in one string, ready for uv_write2. `peer` is cut to 255
// bytes (an address is at most 45).
std::string encode_frame(std::uint32_t target, std::string_view request,
                         std::string_view peer = {});

class FrameReader {
 public:
  // Appends every frame completed by `bytes` to `out`. A corrupt header is
  // skipped up to the next marker (counted in resyncs()); the frames it hid are
  // lost, the reader goes on.
  void feed(std::string_view bytes, std::vector<HandoverFrame>& out);
  // True between frames (no partial frame buffered).
  bool between_frames() const { return partial_.empty(); }
  // Bytes fed so far: the offset at which the next chunk begins.
  std::uint64_t fed() const { return consumed_ + partial_.size(); }
  std::uint64_t resyncs() const { return resyncs_; }

 private:
  std::string partial_;         // bytes of the frame not yet complete
  std::uint64_t consumed_ = 0;  // stream offset of partial_[0]
  std::uint64_t resyncs_ = 0;
};

// The sockets received on a pipe, each with the chunk of the stream it came with
// ([begin, end) offsets), waiting for the hand-over frame that began in that
// chunk (see the top of this file). `Socket` is the receiver's handle type.
template <typename Socket>
class SocketQueue {
 public:
  void push(std::uint64_t begin, std::uint64_t end, Socket socket) {
    entries_.push_back({begin, end, socket});
  }
  // The socket of the hand-over frame that begins at `start`, or nullopt if it
  // never came. Sockets of earlier chunks, which no frame can claim any more, are
  // moved to `orphans` for the caller to close.
  std::optional<Socket> claim(std::uint64_t start, std::vector<Socket>& orphans) {
    while (!entries_.empty() && entries_.front().end <= start) {
      orphans.push_back(entries_.front().socket);
      entries_.pop_front();
    }
    if (entries_.empty() || entries_.front().begin > start) return std::nullopt;
    Socket socket = entries_.front().socket;
    entries_.pop_front();
    return socket;
  }
  // Every socket still waiting (the pipe is gone): the caller closes them.
  std::vector<Socket> take_all() {
    std::vector<Socket> all;
    for (const Entry& entry : entries_) all.push_back(entry.socket);
    entries_.clear();
    return all;
  }

 private:
  struct Entry {
    std::uint64_t begin;
    std::uint64_t end;
    Socket socket;
  };
  std::deque<Entry> entries_;
};

// One end of a pipe as its reader sees it (the supervisor's relay per worker, a
// worker's hand-over): the chunks read, each with the sockets received with it,
// become frames, and each hand-over frame gets the socket of the chunk it began in.
template <typename Socket>
class PipeInbox {
 public:
  // One chunk read from the pipe and the sockets that came with it. Appends the
  // frames it completes to `out`; returns how many corrupt headers it skipped.
  std::uint64_t take(std::string_view bytes, const std::vector<Socket>& sockets,
                     std::vector<HandoverFrame>& out) {
    const std::uint64_t begin = frames_.fed();
    for (const Socket& socket : sockets) sockets_.push(begin, begin + bytes.size(), socket);
    const std::uint64_t resyncs = frames_.resyncs();
    frames_.feed(bytes, out);
    return frames_.resyncs() - resyncs;
  }
  // The socket of hand-over frame `frame` (see SocketQueue::claim).
  std::optional<Socket> claim(const HandoverFrame& frame, std::vector<Socket>& orphans) {
    return sockets_.claim(frame.start, orphans);
  }
  // Every socket still waiting (the pipe is gone): the caller closes them.
  std::vector<Socket> take_all() { return sockets_.take_all(); }

 private:
  FrameReader frames_;
  SocketQueue<Socket> sockets_;
};

// `request` as HTTP/1.1 bytes (HTTP/1.0 if `http10`), with the headers the
// receiving connection looks at (X-Forwarded-For and Forwarded too: the receiver
// judges them against trusted_proxies as the sender did). nullopt for a method we cannot name
// (Method::kOther never reaches a handler, so never happens in practice).
std::optional<std::string> serialize_request(const http::Request& request, bool http10);

}  // namespace sb::app
