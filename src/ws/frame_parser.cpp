// The frame parser's state machine: header bytes one by one into header_ (checked
// as soon as each part is known, so a bad frame is refused at its second byte where
// possible), then payload bytes unmasked in place and either handed on as a view
// (a whole message in one chunk) or appended to the message being assembled.
#include "ws/frame_parser.hpp"

#include <algorithm>

namespace sb::ws {
namespace {

constexpr std::size_t kMaxControlPayload = 125;

bool is_control(Opcode op) { return (static_cast<std::uint8_t>(op) & 0x8) != 0; }

bool known_opcode(std::uint8_t op) {
  return op == 0x0 || op == 0x1 || op == 0x2 || op == 0x8 || op == 0x9 || op == 0xA;
}

// Strict UTF-8 (RFC 3629): no overlongs, no surrogates, nothing above U+10FFFF.
// Unlike xml::check_xml_text this accepts every code point, control characters
// included: those are the XML layer's business, not the WebSocket's (1007 is for
// text that is not UTF-8 at all).
bool valid_utf8(std::string_view text) {
  const auto* p = reinterpret_cast<const unsigned char*>(text.data());
  const std::size_t n = text.size();
  std::size_t i = 0;
  while (i < n) {
    const unsigned c = p[i];
    if (c < 0x80) {
      ++i;
      continue;
    }
    std::size_t length = 0;
    unsigned lo = 0x80, hi = 0xBF;  // allowed range of the second byte
    if (c >= 0xC2 && c <= 0xDF) {
      length = 2;
    } else if (c >= 0xE0 && c <= 0xEF) {
      length = 3;
      if (c == 0xE0) lo = 0xA0;
      if (c == 0xED) hi = 0x9F;
    } else if (c >= 0xF0 && c <= 0xF4) {
      length = 4;
      if (c == 0xF0) lo = 0x90;
      if (c == 0xF4) hi = 0x8F;
    } else {
      return false;
    }
    if (n - i < length || p[i + 1] < lo || p[i + 1] > hi) return false;
    for (std::size_t k = 2; k < length; ++k) {
      if (p[i + k] < 0x80 || p[i + k] > 0xBF) return false;
    }
    i += length;
  }
  return true;
}

}  // namespace

void FrameParser::feed(char* data, std::size_t size, FrameSink& sink) {
  std::size_t pos = 0;
  while (pos < size && state_ != State::kStopped) {
    if (state_ == State::kHeader) {
      pos += read_header(data + pos, size - pos, sink);
      continue;
    }
    const std::size_t take =
        static_cast<std::size_t>(std::min<std::uint64_t>(remaining_, size - pos));
    whole_in_chunk_ = whole_in_chunk_ && take == remaining_;
    payload(data + pos, take, sink);
    pos += take;
  }
}

std::size_t FrameParser::read_header(const char* data, std::size_t size, FrameSink& sink) {
  std::size_t used = 0;
  while (used < size) {
    header_[header_size_++] = static_cast<std::uint8_t>(data[used++]);
    if (header_size_ == 2) {
      // Everything but the extended length and the mask is known now.
      const std::uint8_t b0 = header_[0], b1 = header_[1];
      const std::uint8_t op = b0 & 0x0F;
      fin_ = (b0 & 0x80) != 0;
      if ((b0 & 0x70) != 0) return fail(CloseCode::kProtocolError, "RSV bit set", sink), used;
      if (!known_opcode(op)) return fail(CloseCode::kProtocolError, "unknown opcode", sink), used;
      opcode_ = static_cast<Opcode>(op);
      if ((b1 & 0x80) == 0) {
        return fail(CloseCode::kProtocolError, "unmasked client frame", sink), used;
      }
      const std::uint8_t len7 = b1 & 0x7F;
      if (is_control(opcode_)) {
        if (!fin_) return fail(CloseCode::kProtocolError, "fragmented control frame", sink), used;
        if (len7 > kMaxControlPayload) {
          return fail(CloseCode::kProtocolError, "control frame over 125 bytes", sink), used;
        }
      } else if (opcode_ == Opcode::kBinary) {
        return fail(CloseCode::kUnsupportedData, "binary frame", sink), used;
      } else if (opcode_ == Opcode::kContinuation && !in_message_) {
        return fail(CloseCode::kProtocolError, "continuation without a message", sink), used;
      } else if (opcode_ == Opcode::kText && in_message_) {
        return fail(CloseCode::kProtocolError, "new message inside a fragmented one", sink), used;
      }
    }
    if (header_size_ < 2) continue;
    const std::uint8_t len7 = header_[1] & 0x7F;
    const std::size_t extended = len7 == 126 ? 2 : len7 == 127 ? 8 : 0;
    if (header_size_ == 2 + extended + 4) {
      start_frame(sink);
      return used;
    }
  }
  return used;
}

bool FrameParser::start_frame(FrameSink& sink) {
  const std::uint8_t len7 = header_[1] & 0x7F;
  std::size_t at = 2;
  std::uint64_t length = len7;
  if (len7 == 126) {
    length = (std::uint64_t{header_[2]} << 8) | header_[3];
    at = 4;
  } else if (len7 == 127) {
    length = 0;
    for (std::size_t i = 2; i < 10; ++i) length = (length << 8) | header_[i];
    at = 10;
    if ((length >> 63) != 0) {
      fail(CloseCode::kProtocolError, "64-bit length with its top bit set", sink);
      return false;
    }
  }
  std::copy_n(header_.begin() + static_cast<std::ptrdiff_t>(at), 4, mask_.begin());
  header_size_ = 0;
  mask_offset_ = 0;
  remaining_ = length;
  if (!is_control(opcode_)) {
    const std::size_t so_far = message_ ? message_->size() : 0;
    if (length > max_message_ || so_far + length > max_message_) {
      fail(CloseCode::kMessageTooBig, "message over the size limit", sink);
      return false;
    }
    if (opcode_ == Opcode::kText) in_message_ = !fin_;
  }
  whole_in_chunk_ = true;
  if (length == 0) {
    state_ = State::kHeader;
    frame_done({}, sink);
    return state_ != State::kStopped;
  }
  state_ = State::kPayload;
  return true;
}

void FrameParser::payload(char* data, std::size_t size, FrameSink& sink) {
  for (std::size_t i = 0; i < size; ++i) {
    data[i] = static_cast<char>(static_cast<std::uint8_t>(data[i]) ^ mask_[(mask_offset_ + i) & 3]);
  }
  mask_offset_ = static_cast<std::uint8_t>((mask_offset_ + size) & 3);
  remaining_ -= size;
  const std::string_view piece(data, size);
  if (remaining_ == 0) state_ = State::kHeader;

  if (is_control(opcode_)) {
    if (remaining_ == 0 && whole_in_chunk_) {
      control_done(piece, sink);
      return;
    }
    if (!control_) control_ = std::make_unique<std::string>();
    control_->append(piece);
    if (remaining_ == 0) {
      const std::unique_ptr<std::string> done = std::move(control_);
      control_done(*done, sink);
    }
    return;
  }
  if (remaining_ == 0 && fin_ && whole_in_chunk_ && (!message_ || message_->empty())) {
    frame_done(piece, sink);  // the whole message is in this chunk: no copy
    return;
  }
  if (!message_) {
    message_ = std::make_unique<std::string>();
    // A final frame's size is known (and within the limit): one allocation.
    if (fin_) message_->reserve(piece.size() + static_cast<std::size_t>(remaining_));
  }
  message_->append(piece);
  if (remaining_ == 0) frame_done({}, sink);
}

void FrameParser::frame_done(std::string_view last_piece, FrameSink& sink) {
  if (is_control(opcode_)) {
    control_done(last_piece, sink);
    return;
  }
  if (!fin_) return;  // more fragments follow; in_message_ is set
  in_message_ = false;
  // Either the message is `last_piece` (no copy was made) or it is all in message_.
  const std::unique_ptr<std::string> assembled = std::move(message_);
  const std::string_view message =
      assembled && !assembled->empty() ? std::string_view(*assembled) : last_piece;
  if (!valid_utf8(message)) {
    fail(CloseCode::kInvalidPayload, "text message is not UTF-8", sink);
    return;
  }
  sink.text_message(message);
}

void FrameParser::control_done(std::string_view payload, FrameSink& sink) {
  switch (opcode_) {
    case Opcode::kPing: sink.ping(payload); return;
    case Opcode::kPong: sink.pong(payload); return;
    case Opcode::kClose: break;
    default: return;
  }
  std::uint16_t code = 0;
  std::string_view reason;
  if (payload.size() == 1) {
    fail(CloseCode::kProtocolError, "close frame with a one-byte payload", sink);
    return;
  }
  if (payload.size() >= 2) {
    code = static_cast<std::uint16_t>((static_cast<std::uint8_t>(payload[0]) << 8) |
                                      static_cast<std::uint8_t>(payload[1]));
    reason = payload.substr(2);
    if (!valid_received_close_code(code)) {
      fail(CloseCode::kProtocolError, "invalid close code", sink);
      return;
    }
    if (!valid_utf8(reason)) {
      fail(CloseCode::kInvalidPayload, "close reason is not UTF-8", sink);
      return;
    }
  }
  state_ = State::kStopped;
  message_.reset();
  sink.close_received(code, reason);
}

FrameParserState FrameParser::save() const {
  FrameParserState out;
  out.in_payload = state_ == State::kPayload;
  if (!out.in_payload)
    out.header.assign(reinterpret_cast<const char*>(header_.data()), header_size_);
  if (message_) {
    out.message = *message_;
    out.has_message = true;
  }
  if (control_) out.control = *control_;
  out.remaining = remaining_;
  std::copy(mask_.begin(), mask_.end(), out.mask);
  out.mask_offset = mask_offset_;
  out.opcode = static_cast<std::uint8_t>(opcode_);
  out.fin = fin_;
  out.in_message = in_message_;
  return out;
}

namespace {
// What load() hears when it reads a saved header again: only a refusal matters.
struct RefusalSink final : FrameSink {
  void text_message(std::string_view) override {}
  void ping(std::string_view) override {}
  void pong(std::string_view) override {}
  void close_received(std::uint16_t, std::string_view) override {}
  void frame_error(CloseCode, std::string_view what) override { error = what; }
  std::string error;
};
}  // namespace

bool FrameParser::load(const FrameParserState& in, std::string& error) {
  const auto bad = [&](const char* why) {
    error = std::string("WebSocket frame state: ") + why;
    state_ = State::kStopped;
    return false;
  };
  if (in.message.size() > max_message_) return bad("a message over the size limit");
  if (in.control.size() > kMaxControlPayload) return bad("a control payload over 125 bytes");
  if (in.has_message && !in.in_message && in.in_payload &&
      static_cast<Opcode>(in.opcode) != Opcode::kText) {
    return bad("a message under way outside a message");
  }
  message_ = in.has_message ? std::make_unique<std::string>(in.message) : nullptr;
  control_ = in.control.empty() ? nullptr : std::make_unique<std::string>(in.control);
  in_message_ = in.in_message;
  whole_in_chunk_ = false;  // the rest comes in other chunks than the start
  if (!in.in_payload) {
    if (in.header.size() >= header_.size() - 1 || !in.control.empty() || in.remaining != 0) {
      return bad("a header too long, or a payload left over");
    }
    // The header's first bytes are read again, with every check they had.
    state_ = State::kHeader;
    header_size_ = 0;
    RefusalSink sink;
    const std::size_t used = read_header(in.header.data(), in.header.size(), sink);
    if (!sink.error.empty()) return bad("its header is refused");
    if (used != in.header.size() || state_ != State::kHeader) return bad("its header is complete");
    return true;
  }
  const Opcode op = static_cast<Opcode>(in.opcode);
  if (!known_opcode(in.opcode) || op == Opcode::kBinary) return bad("an opcode no frame may have");
  if (in.remaining == 0 || in.mask_offset > 3) return bad("no payload left, or a bad mask offset");
  if (is_control(op)) {
    if (!in.fin || in.control.size() + in.remaining > kMaxControlPayload) {
      return bad("a control frame fragmented or over 125 bytes");
    }
  } else if (in.message.size() + in.remaining > max_message_) {
    return bad("a message over the size limit");
  } else if (op == Opcode::kContinuation && !in.in_message) {
    return bad("a continuation outside a message");
  }
  opcode_ = op;
  fin_ = in.fin;
  remaining_ = in.remaining;
  std::copy(std::begin(in.mask), std::end(in.mask), mask_.begin());
  mask_offset_ = in.mask_offset;
  header_size_ = 0;
  state_ = State::kPayload;
  return true;
}

void FrameParser::fail(CloseCode code, std::string_view what, FrameSink& sink) {
  state_ = State::kStopped;
  message_.reset();
  control_.reset();
  sink.frame_error(code, what);
}

}  // namespace sb::ws
