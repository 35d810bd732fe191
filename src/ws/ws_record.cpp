#include "ws/ws_record.hpp"

#include "base/record_codec.hpp"

namespace sb::ws {
namespace {
constexpr std::string_view kMagic = "SBws";
constexpr std::size_t kMaxName = 1024;
constexpr std::size_t kMaxMessage = 256u << 20;
}  // namespace

std::string encode(const WsRecord& record) {
  base::RecordWriter w;
  w.head(kMagic, kWsRecordVersion);
  w.u64(record.id);
  w.text(record.peer);
  w.text(record.to);
  w.text(record.lang);
  w.boolean(record.open_sent);
  const FrameParserState& p = record.parser;
  w.boolean(p.in_payload);
  w.text(p.header);
  w.boolean(p.has_message);
  w.text(p.message);
  w.text(p.control);
  w.u64(p.remaining);
  w.raw(std::string_view(reinterpret_cast<const char*>(p.mask), 4));
  w.u64(p.mask_offset);
  w.u64(p.opcode);
  w.boolean(p.fin);
  w.boolean(p.in_message);
  return w.take();
}

bool decode(std::string_view bytes, WsRecord& record, std::string& error) {
  base::RecordReader r(bytes);
  if (!r.head(kMagic, kWsRecordVersion, "WebSocket session record", "a WebSocket session record",
              error))
    return false;
  WsRecord out;
  out.id = static_cast<std::uint32_t>(r.u64_at_most(UINT32_MAX, "the log id"));
  out.peer = r.text(kMaxName, "the client's address");
  out.to = r.text(kMaxName, "the stream's to");
  out.lang = r.text(kMaxName, "the stream's xml:lang");
  out.open_sent = r.boolean();
  FrameParserState& p = out.parser;
  p.in_payload = r.boolean();
  p.header = r.text(13, "a frame header read in part");
  p.has_message = r.boolean();
  p.message = r.text(kMaxMessage, "a message read in part");
  p.control = r.text(125, "a control frame read in part");
  p.remaining = r.u64();
  const std::string_view mask = r.raw(4, "the frame's mask");
  if (mask.size() == 4) std::copy(mask.begin(), mask.end(), reinterpret_cast<char*>(p.mask));
  p.mask_offset = static_cast<std::uint8_t>(r.u64_at_most(3, "the mask offset"));
  p.opcode = static_cast<std::uint8_t>(r.u64_at_most(15, "the opcode"));
  p.fin = r.boolean();
  p.in_message = r.boolean();
  if (r.ok() && out.to.find('\0') != std::string::npos) r.fail("the stream's to", "it holds a NUL");
  if (r.ok() && out.lang.find('\0') != std::string::npos) {
    r.fail("the stream's xml:lang", "it holds a NUL");
  }
  if (!r.end("WebSocket session record", error)) return false;
  record = std::move(out);
  return true;
}

}  // namespace sb::ws
