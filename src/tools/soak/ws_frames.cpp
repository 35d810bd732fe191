// Client frames (masked) and the incremental reader of server frames.
#include "tools/soak/ws_frames.hpp"

#include <cstdint>

namespace sb::soak {

namespace {

constexpr std::size_t kFault = SIZE_MAX;

std::uint8_t byte_at(std::string_view s, std::size_t i) { return static_cast<std::uint8_t>(s[i]); }

}  // namespace

std::string ws_client_frame(WsOpcode opcode, std::string_view payload, std::uint32_t mask) {
  std::string out;
  out.reserve(payload.size() + 14);
  out += static_cast<char>(0x80 | static_cast<std::uint8_t>(opcode));
  const std::size_t n = payload.size();
  if (n < 126) {
    out += static_cast<char>(0x80 | n);
  } else if (n <= 0xffff) {
    out += static_cast<char>(0x80 | 126);
    out += static_cast<char>((n >> 8) & 0xff);
    out += static_cast<char>(n & 0xff);
  } else {
    out += static_cast<char>(0x80 | 127);
    for (int shift = 56; shift >= 0; shift -= 8)
      out += static_cast<char>((static_cast<std::uint64_t>(n) >> shift) & 0xff);
  }
  const char key[4] = {static_cast<char>(mask >> 24), static_cast<char>((mask >> 16) & 0xff),
                       static_cast<char>((mask >> 8) & 0xff), static_cast<char>(mask & 0xff)};
  out.append(key, 4);
  for (std::size_t i = 0; i < n; ++i) out += static_cast<char>(payload[i] ^ key[i & 3]);
  return out;
}

std::string ws_close_payload(std::uint16_t code) {
  std::string out;
  out += static_cast<char>(code >> 8);
  out += static_cast<char>(code & 0xff);
  return out;
}

namespace {

// What a frame's header says, as far as the reader needs it.
struct FrameHead {
  bool fin = false;
  bool control = false;
  WsOpcode op = WsOpcode::kContinuation;
  std::size_t size = 2;      // bytes of header
  std::uint64_t length = 0;  // bytes of payload
};

// Reads the header at the front of `data`: returns its size, 0 when more bytes
// are needed, or kFault on a fault the header alone shows.
std::size_t read_head(std::string_view data, FrameHead& head, std::string& error) {
  if (data.size() < 2) return 0;
  const std::uint8_t b0 = byte_at(data, 0);
  const std::uint8_t b1 = byte_at(data, 1);
  head.fin = (b0 & 0x80) != 0;
  head.op = static_cast<WsOpcode>(b0 & 0x0f);
  if ((b0 & 0x70) != 0) {
    error = "ws_protocol:rsv";
    return kFault;
  }
  if ((b1 & 0x80) != 0) {
    error = "ws_protocol:masked_server_frame";  // RFC 6455 §5.1: a client must close
    return kFault;
  }
  head.length = b1 & 0x7f;
  if (head.length == 126) {
    if (data.size() < 4) return 0;
    head.length = static_cast<std::uint64_t>(byte_at(data, 2)) << 8 | byte_at(data, 3);
    head.size = 4;
  } else if (head.length == 127) {
    if (data.size() < 10) return 0;
    head.length = 0;
    for (std::size_t i = 2; i < 10; ++i) head.length = head.length << 8 | byte_at(data, i);
    head.size = 10;
  }
  head.control = (b0 & 0x08) != 0;
  if (head.control && (head.length > 125 || !head.fin)) {
    error = "ws_protocol:control_frame";
    return kFault;
  }
  return head.size;
}

}  // namespace

std::size_t WsFrameReader::take_frame(std::string_view data, WsFrameSink& sink,
                                      std::string& error) {
  FrameHead head;
  const std::size_t header = read_head(data, head, error);
  if (header == 0 || header == kFault) return header;
  if (head.length > kMaxMessage || (!head.control && message_.size() + head.length > kMaxMessage)) {
    error = "ws_protocol:too_big";
    return kFault;
  }
  if (data.size() - header < head.length) return 0;
  const std::string_view payload = data.substr(header, static_cast<std::size_t>(head.length));
  if (!deliver(head.op, head.fin, payload, sink, error)) return kFault;
  return header + static_cast<std::size_t>(head.length);
}

bool WsFrameReader::deliver(WsOpcode op, bool fin, std::string_view payload, WsFrameSink& sink,
                            std::string& error) {
  switch (op) {
    case WsOpcode::kText:
    case WsOpcode::kContinuation:
      if ((op == WsOpcode::kText) == in_message_) {
        error = "ws_protocol:fragmentation";
        return false;
      }
      if (fin && !in_message_) {
        sink.on_ws_text(payload);
      } else {
        message_.append(payload);
        in_message_ = !fin;
        if (fin) {
          std::string whole;
          whole.swap(message_);
          sink.on_ws_text(whole);
        }
      }
      return true;
    case WsOpcode::kPing: sink.on_ws_ping(payload); return true;
    case WsOpcode::kPong: return true;
    case WsOpcode::kClose:
      done_ = true;
      sink.on_ws_close(payload.size() >= 2 ? static_cast<std::uint16_t>(byte_at(payload, 0) << 8 |
                                                                        byte_at(payload, 1))
                                           : 1005);
      return true;
    default:
      error = op == WsOpcode::kBinary ? "ws_protocol:binary"
                                      : "ws_protocol:opcode";  // RFC 7395 §3.2: text only
      return false;
  }
}

bool WsFrameReader::feed(std::string_view bytes, WsFrameSink& sink, std::string& error) {
  if (done_) return true;
  std::string_view data = bytes;
  const bool carried = !partial_.empty();
  if (carried) {
    partial_.append(bytes);
    data = partial_;
  }
  std::size_t used = 0;
  while (!done_ && used < data.size()) {
    const std::size_t n = take_frame(data.substr(used), sink, error);
    if (n == kFault) {
      done_ = true;
      std::string().swap(partial_);
      return false;
    }
    if (n == 0) break;
    used += n;
  }
  if (done_) {
    std::string().swap(partial_);
    return true;
  }
  if (carried) {
    if (used == partial_.size()) {
      std::string().swap(partial_);
    } else {
      partial_.erase(0, used);
    }
  } else if (used < data.size()) {
    partial_.assign(data.substr(used));
  }
  return true;
}

}  // namespace sb::soak
