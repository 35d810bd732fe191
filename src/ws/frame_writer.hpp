// Server frames (RFC 6455 §5.2): never masked, always FIN, one frame per message.
// Switchboard sends one stanza per text frame (RFC 7395 §3.3.3), so it never needs to
// fragment. The header is built apart from the payload, so a stanza can be written
// as two buffers (header, then the stanza's own bytes) without being copied.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "ws/close_code.hpp"
#include "ws/frame_parser.hpp"

namespace sb::ws {

// A frame header: 2, 4 or 10 bytes.
struct FrameHeader {
  std::array<char, 10> bytes{};
  std::uint8_t size = 0;
  std::string_view view() const { return {bytes.data(), size}; }
};

FrameHeader frame_header(Opcode opcode, std::size_t payload_size);

// Whole frames as one string (header + payload), for the small ones.
std::string text_frame(std::string_view payload);
// Payloads over 125 bytes are cut (a control frame cannot be longer).
std::string ping_frame(std::string_view payload);
std::string pong_frame(std::string_view payload);
// A close frame with `code` and `reason` (cut to 123 bytes at a UTF-8 character
// boundary); kNone gives an empty close frame.
std::string close_frame(CloseCode code, std::string_view reason = {});

}  // namespace sb::ws
