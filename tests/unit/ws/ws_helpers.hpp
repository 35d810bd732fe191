// Test helpers for the WebSocket layer: client frames built by hand (masked, as a
// browser sends them, with any opcode, flags or length form), a recording
// FrameSink, and a WsOutput that decodes the server's frames back.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "ws/frame_parser.hpp"
#include "ws/ws_session.hpp"

namespace sb::test {

struct FrameSpec {
  std::uint8_t opcode = 0x1;
  bool fin = true;
  std::uint8_t rsv = 0;  // the three RSV bits, in place (0x70 mask)
  bool masked = true;
  int length_form = 0;  // 0: shortest; 16 or 64: force that form
  std::uint32_t mask = 0x37FA213D;
};

inline std::string client_frame(std::string_view payload, const FrameSpec& spec = {}) {
  std::string out;
  out += static_cast<char>((spec.fin ? 0x80 : 0) | spec.rsv | spec.opcode);
  const std::uint8_t mask_bit = spec.masked ? 0x80 : 0;
  const std::uint64_t n = payload.size();
  if (spec.length_form == 64 || (spec.length_form == 0 && n > 0xFFFF)) {
    out += static_cast<char>(mask_bit | 127);
    for (int i = 7; i >= 0; --i) out += static_cast<char>((n >> (8 * i)) & 0xFF);
  } else if (spec.length_form == 16 || (spec.length_form == 0 && n > 125)) {
    out += static_cast<char>(mask_bit | 126);
    out += static_cast<char>((n >> 8) & 0xFF);
    out += static_cast<char>(n & 0xFF);
  } else {
    out += static_cast<char>(mask_bit | n);
  }
  if (!spec.masked) return out + std::string(payload);
  const char key[4] = {static_cast<char>(spec.mask >> 24), static_cast<char>(spec.mask >> 16),
                       static_cast<char>(spec.mask >> 8), static_cast<char>(spec.mask)};
  out.append(key, 4);
  for (std::size_t i = 0; i < payload.size(); ++i)
    out += static_cast<char>(payload[i] ^ key[i % 4]);
  return out;
}

inline std::string client_text(std::string_view text) { return client_frame(text); }

inline std::string client_close(std::uint16_t code, std::string_view reason = {}) {
  std::string payload;
  payload += static_cast<char>(code >> 8);
  payload += static_cast<char>(code & 0xFF);
  payload.append(reason);
  return client_frame(payload, {.opcode = 0x8});
}

// Every event of a FrameParser, as text.
struct RecordingSink final : ws::FrameSink {
  std::vector<std::string> events;
  void text_message(std::string_view m) override { events.push_back("text:" + std::string(m)); }
  void ping(std::string_view p) override { events.push_back("ping:" + std::string(p)); }
  void pong(std::string_view p) override { events.push_back("pong:" + std::string(p)); }
  void close_received(std::uint16_t code, std::string_view reason) override {
    events.push_back("close:" + std::to_string(code) + ":" + std::string(reason));
  }
  void frame_error(ws::CloseCode code, std::string_view what) override {
    events.push_back("error:" + std::to_string(static_cast<int>(code)) + ":" + std::string(what));
  }
};

// Feeds `bytes` to a fresh parser in chunks of `chunk` bytes (0: all at once).
inline std::vector<std::string> parse(std::string bytes, std::size_t chunk = 0,
                                      std::size_t max_message = 1 << 16) {
  ws::FrameParser parser(max_message);
  RecordingSink sink;
  if (chunk == 0) chunk = bytes.size() == 0 ? 1 : bytes.size();
  for (std::size_t at = 0; at < bytes.size(); at += chunk) {
    parser.feed(bytes.data() + at, std::min(chunk, bytes.size() - at), sink);
  }
  return sink.events;
}

// A server frame decoded back.
struct ServerFrame {
  std::uint8_t opcode = 0;
  std::string payload;
  bool operator==(const ServerFrame&) const = default;
};

// Decodes the server's frames as a client would, checking they are well-formed:
// FIN set, unmasked, shortest length form.
inline std::vector<ServerFrame> decode_server_frames(std::string_view bytes, bool& ok) {
  std::vector<ServerFrame> frames;
  ok = true;
  while (!bytes.empty()) {
    if (bytes.size() < 2) return ok = false, frames;
    const auto b0 = static_cast<std::uint8_t>(bytes[0]);
    const auto b1 = static_cast<std::uint8_t>(bytes[1]);
    if ((b0 & 0x80) == 0 || (b0 & 0x70) != 0 || (b1 & 0x80) != 0) return ok = false, frames;
    std::uint64_t n = b1 & 0x7F;
    std::size_t at = 2;
    if (n == 126) {
      if (bytes.size() < 4) return ok = false, frames;
      n = (std::uint64_t{static_cast<std::uint8_t>(bytes[2])} << 8) |
          static_cast<std::uint8_t>(bytes[3]);
      at = 4;
      if (n <= 125) ok = false;
    } else if (n == 127) {
      if (bytes.size() < 10) return ok = false, frames;
      n = 0;
      for (std::size_t i = 2; i < 10; ++i) n = (n << 8) | static_cast<std::uint8_t>(bytes[i]);
      at = 10;
      if (n <= 0xFFFF) ok = false;
    }
    if (bytes.size() - at < n) return ok = false, frames;
    frames.push_back({static_cast<std::uint8_t>(b0 & 0x0F), std::string(bytes.substr(at, n))});
    bytes.remove_prefix(at + n);
  }
  return frames;
}

// Holds frames between hold_writes() and release_writes() as the app's WsSocket
// does (one write for a server read's frames): `bytes` is what reached the socket.
struct RecordingOutput final : ws::WsOutput {
  std::string bytes;
  std::string held;  // written while holding, not yet released
  bool holding = false;
  int releases = 0;  // release_writes() that wrote something
  int closes = 0;
  bool wrote_after_close = false;
  std::size_t queued = 0;  // what queued_bytes() reports
  void write(std::string_view header, std::string_view payload) override {
    if (closes > 0) wrote_after_close = true;
    (holding ? held : bytes).append(header).append(payload);
  }
  void hold_writes() override { holding = true; }
  void release_writes() override {
    holding = false;
    if (held.empty()) return;
    bytes += held;
    held.clear();
    ++releases;
  }
  void close() override {
    release_writes();  // the glue's contract: flush, then close
    ++closes;
  }
  std::size_t queued_bytes() const override { return queued; }
  std::vector<ServerFrame> frames() const {
    bool ok = false;
    auto f = decode_server_frames(bytes, ok);
    return ok ? f : std::vector<ServerFrame>{{0xFF, "malformed server frames"}};
  }
  // The payloads of text frames, in order.
  std::vector<std::string> texts() const {
    std::vector<std::string> out;
    for (const auto& f : frames()) {
      if (f.opcode == 0x1) out.push_back(f.payload);
    }
    return out;
  }
  // The close frame's code, or -1 when none was sent.
  int close_code() const {
    for (const auto& f : frames()) {
      if (f.opcode == 0x8) {
        if (f.payload.size() < 2) return 0;
        return (static_cast<std::uint8_t>(f.payload[0]) << 8) |
               static_cast<std::uint8_t>(f.payload[1]);
      }
    }
    return -1;
  }
};

}  // namespace sb::test
