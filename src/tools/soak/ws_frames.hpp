// The client half of RFC 6455 framing for the soak's WebSocket transport: frames
// the generator writes (always masked, FIN, one text message per frame, as RFC
// 7395 wants one XMPP element per message) and an incremental reader for the
// server's frames (never masked), fed from chunks cut anywhere.
//
// The daemon's own ws/ layer parses the other direction (masked client frames,
// with the checks a server owes its clients); a generator needs the mirror image
// and only the checks that keep its accounting honest, and the tools must not
// depend on the daemon's code (src/tools/CMakeLists.txt), hence this small file.
//
// Memory: the reader holds no heap while idle. A frame that arrives whole in one
// read is handed on as a view of the caller's buffer; only a frame cut across
// reads, or a fragmented message, is copied into `partial_` and freed once
// delivered.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace sb::soak {

enum class WsOpcode : std::uint8_t {
  kContinuation = 0,
  kText = 1,
  kBinary = 2,
  kClose = 8,
  kPing = 9,
  kPong = 10
};

// One complete masked client frame: header, 4-byte mask, masked payload.
std::string ws_client_frame(WsOpcode opcode, std::string_view payload, std::uint32_t mask);
// A close frame's payload: the 2-byte code (network order) and no reason.
std::string ws_close_payload(std::uint16_t code);

class WsFrameSink {
 public:
  // A complete text message (a final frame, or the fragments joined).
  virtual void on_ws_text(std::string_view text) = 0;
  // A ping's payload (answer with a pong), or a close frame's code (1005 = none).
  virtual void on_ws_ping(std::string_view payload) = 0;
  virtual void on_ws_close(std::uint16_t code) = 0;

 protected:
  ~WsFrameSink() = default;
};

class WsFrameReader {
 public:
  // Reads server frames; returns false on a protocol fault (a masked server
  // frame, a bad opcode, an oversized message, ...) with `error` naming it.
  // Nothing is delivered after a fault or a close frame.
  bool feed(std::string_view bytes, WsFrameSink& sink, std::string& error);
  // Heap held for partial frames and messages (0 when idle).
  std::size_t buffered_bytes() const { return heap(partial_) + heap(message_); }

  static constexpr std::size_t kMaxMessage = 1 << 20;

 private:
  // Handles the frame at the front of `data` if complete: returns its size, 0
  // when more bytes are needed, or SIZE_MAX on a fault.
  std::size_t take_frame(std::string_view data, WsFrameSink& sink, std::string& error);
  // Hands a complete frame's payload on (or keeps a fragment); false on a fault.
  bool deliver(WsOpcode op, bool fin, std::string_view payload, WsFrameSink& sink,
               std::string& error);

  static std::size_t heap(const std::string& s) {
    return s.capacity() > std::string().capacity() ? s.capacity() : 0;
  }

  std::string partial_;  // an incomplete frame carried to the next read
  std::string message_;  // fragments of a text message not yet final
  bool in_message_ = false;
  bool done_ = false;  // close frame or fault seen
};

}  // namespace sb::soak
