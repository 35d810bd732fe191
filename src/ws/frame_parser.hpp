// FrameParser: the client's side of a WebSocket connection (RFC 6455 §5), read
// incrementally from byte chunks cut anywhere, down to one byte at a time.
//
// It checks everything a server must check of client frames: RSV bits clear (no
// extension is ever negotiated), a known opcode, the mask bit set, a 64-bit length
// with its top bit clear, control frames (close, ping, pong) at most 125 bytes and
// never fragmented, continuation frames only inside a fragmented message and no new
// data frame inside one, the message size limit, UTF-8 in text messages and close
// reasons, and a valid close code. The first fault stops the parser and reports the
// close code to answer with (FrameSink::frame_error); nothing is delivered after it.
//
// Memory. An idle parser holds no heap at all: the header of a frame in progress is
// kept inline (at most 14 bytes), and chunks are unmasked in place in the caller's
// buffer (the loop's shared read buffer). A text message that arrives whole in one
// chunk, in one frame, is handed to the sink as a view of that buffer, with no copy;
// only a message cut across chunks or frames is copied, once, into `message_`, which
// is released when the message is delivered. A control frame cut across chunks is
// collected in its own small buffer (at most 125 bytes), released likewise.
//
// Binary messages are refused (1003) as soon as their first frame header is read:
// RFC 7395 §3.2 carries XMPP in text frames only, so there is nothing to assemble.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "ws/close_code.hpp"

namespace sb::ws {

enum class Opcode : std::uint8_t {
  kContinuation = 0x0,
  kText = 0x1,
  kBinary = 0x2,
  kClose = 0x8,
  kPing = 0x9,
  kPong = 0xA,
};

class FrameSink {
 public:
  // One complete text message (all its frames), valid UTF-8. The view lives until
  // the callback returns.
  virtual void text_message(std::string_view message) = 0;
  virtual void ping(std::string_view payload) = 0;
  virtual void pong(std::string_view payload) = 0;
  // The client's close frame. `code` is kNone when it carried no payload; the
  // reason is valid UTF-8. The parser reads nothing after it.
  virtual void close_received(std::uint16_t code, std::string_view reason) = 0;
  // The client broke the protocol; `code` is what to close with, `what` says why.
  virtual void frame_error(CloseCode code, std::string_view what) = 0;

 protected:
  ~FrameSink() = default;
};

// Where a parser stands between two chunks, as plain data: what moves with a
// WebSocket connection to another process (an upgrade in place, ws_record.hpp).
// A frame's header read in part, or its payload in part (with the mask and how
// far it got), and the message or control payload assembled so far, unmasked.
struct FrameParserState {
  bool in_payload = false;   // false: reading a header (`header` has its first bytes)
  std::string header;        // a header's bytes so far (in_payload false), < 14
  std::string message;       // a text message assembled so far (fragments, chunks)
  bool has_message = false;  // `message` is under way (it may be empty)
  std::string control;       // a control frame's payload so far
  std::uint64_t remaining = 0;
  std::uint8_t mask[4] = {};
  std::uint8_t mask_offset = 0;
  std::uint8_t opcode = 0;
  bool fin = false;
  bool in_message = false;  // a fragmented text message is under way
};

class FrameParser {
 public:
  explicit FrameParser(std::size_t max_message_bytes) : max_message_(max_message_bytes) {}

  // Parses a chunk, unmasking it in place, calling `sink` for each event. Returns
  // early (ignoring the rest) once stopped: after a close frame, an error, or stop()
  // called from inside a callback.
  void feed(char* data, std::size_t size, FrameSink& sink);

  // The sink wants no more events (it is closing the connection).
  void stop() { state_ = State::kStopped; }
  bool stopped() const { return state_ == State::kStopped; }

  // Moving the connection: where the parser stands (not stopped), and a parser
  // put back there. load() checks what it is given as it would check the
  // client's bytes (a header read in part is read again); false, with the reason,
  // for a state no client could have put it in.
  FrameParserState save() const;
  bool load(const FrameParserState& state, std::string& error);

  // Heap bytes held right now (0 between messages).
  std::size_t buffered_bytes() const {
    const auto held = [](const std::unique_ptr<std::string>& s) {
      return s ? sizeof(std::string) + s->capacity() : 0;
    };
    return held(message_) + held(control_);
  }

 private:
  enum class State : std::uint8_t { kHeader, kPayload, kStopped };

  // Reads header bytes; returns how many were used. Sets state_ to kPayload (or
  // delivers an empty frame) once the header is complete.
  std::size_t read_header(const char* data, std::size_t size, FrameSink& sink);
  bool start_frame(FrameSink& sink);  // the header is complete: check it
  void payload(char* data, std::size_t size, FrameSink& sink);
  void frame_done(std::string_view last_piece, FrameSink& sink);
  void control_done(std::string_view payload, FrameSink& sink);
  void fail(CloseCode code, std::string_view what, FrameSink& sink);

  std::unique_ptr<std::string> message_;  // a message cut across chunks or frames
  std::unique_ptr<std::string> control_;  // a control frame cut across chunks
  std::uint64_t remaining_ = 0;           // payload bytes still to come in this frame
  std::size_t max_message_;
  std::array<std::uint8_t, 14> header_{};  // 2 + 8 (length) + 4 (mask) bytes at most
  std::array<std::uint8_t, 4> mask_{};
  std::uint8_t header_size_ = 0;           // header bytes read so far
  std::uint8_t mask_offset_ = 0;           // payload bytes unmasked so far, mod 4
  Opcode opcode_ = Opcode::kContinuation;  // of the current frame
  bool fin_ = false;
  bool in_message_ = false;      // a fragmented text message is under way
  bool whole_in_chunk_ = false;  // this frame's payload is in one chunk
  State state_ = State::kHeader;
};

}  // namespace sb::ws
