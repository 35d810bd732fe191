// Building server frame headers; see frame_writer.hpp.
#include "ws/frame_writer.hpp"

namespace sb::ws {
namespace {

constexpr std::size_t kMaxControlPayload = 125;

std::string whole_frame(Opcode opcode, std::string_view payload) {
  const FrameHeader header = frame_header(opcode, payload.size());
  std::string frame;
  frame.reserve(header.size + payload.size());
  frame.append(header.view());
  frame.append(payload);
  return frame;
}

// Cuts `text` to at most `limit` bytes without splitting a UTF-8 sequence.
std::string_view cut_utf8(std::string_view text, std::size_t limit) {
  if (text.size() <= limit) return text;
  std::size_t end = limit;
  while (end > 0 && (static_cast<unsigned char>(text[end]) & 0xC0) == 0x80) --end;
  return text.substr(0, end);
}

}  // namespace

FrameHeader frame_header(Opcode opcode, std::size_t payload_size) {
  FrameHeader h;
  h.bytes[0] = static_cast<char>(0x80 | static_cast<std::uint8_t>(opcode));
  if (payload_size <= 125) {
    h.bytes[1] = static_cast<char>(payload_size);
    h.size = 2;
  } else if (payload_size <= 0xFFFF) {
    h.bytes[1] = static_cast<char>(126);
    h.bytes[2] = static_cast<char>((payload_size >> 8) & 0xFF);
    h.bytes[3] = static_cast<char>(payload_size & 0xFF);
    h.size = 4;
  } else {
    h.bytes[1] = static_cast<char>(127);
    const auto n = static_cast<std::uint64_t>(payload_size);
    for (std::size_t i = 0; i < 8; ++i) {
      h.bytes[2 + i] = static_cast<char>((n >> (8 * (7 - i))) & 0xFF);
    }
    h.size = 10;
  }
  return h;
}

std::string text_frame(std::string_view payload) { return whole_frame(Opcode::kText, payload); }

std::string ping_frame(std::string_view payload) {
  return whole_frame(Opcode::kPing, payload.substr(0, kMaxControlPayload));
}

std::string pong_frame(std::string_view payload) {
  return whole_frame(Opcode::kPong, payload.substr(0, kMaxControlPayload));
}

std::string close_frame(CloseCode code, std::string_view reason) {
  if (code == CloseCode::kNone) return whole_frame(Opcode::kClose, {});
  const auto value = static_cast<std::uint16_t>(code);
  std::string payload;
  payload += static_cast<char>(value >> 8);
  payload += static_cast<char>(value & 0xFF);
  payload.append(cut_utf8(reason, kMaxControlPayload - 2));
  return whole_frame(Opcode::kClose, payload);
}

}  // namespace sb::ws
