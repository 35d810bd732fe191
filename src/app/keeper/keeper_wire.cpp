// The byte form of a worker's and its keeper's messages; see keeper_wire.hpp.
#include "app/keeper/keeper_wire.hpp"

#include "base/record_codec.hpp"

namespace sb::app {
namespace {
constexpr std::size_t kMaxSid = 256;
constexpr std::size_t kMaxRecord = 1u << 20;  // a packet is smaller (keeper_link.hpp)
constexpr std::uint64_t kMaxEntries = 1u << 16;
}  // namespace

std::size_t KeeperMessage::fds() const {
  std::size_t n = 0;
  for (const KeptEntry& e : entries) n += e.sockets();
  return n;
}

std::string encode(const KeeperMessage& message) {
  base::RecordWriter w;
  w.raw(std::string_view(reinterpret_cast<const char*>(&message.kind), 1));
  w.u64(message.nonce);
  w.u64(message.entries.size());
  for (const KeptEntry& e : message.entries) {
    w.boolean(e.gone);
    w.text(e.sid);
    if (e.gone) continue;
    w.text(e.session);
    w.text(e.link);
    w.u64(e.read);
    w.u64(e.written);
    w.boolean(e.fd);
    w.boolean(e.websocket);
    if (!e.websocket) continue;
    w.u64(e.client_read);
    w.u64(e.client_written);
  }
  return w.take();
}

std::size_t encoded_size(const KeptEntry& entry) {
  // Ten varints (flags, lengths, positions), each at most 10 bytes.
  return entry.sid.size() + entry.session.size() + entry.link.size() + 100;
}

bool decode(std::string_view bytes, KeeperMessage& message, std::string& error) {
  if (bytes.empty()) {
    error = "an empty keeper message";
    return false;
  }
  const auto kind = static_cast<std::uint8_t>(bytes[0]);
  if (kind < static_cast<std::uint8_t>(KeeperKind::kUpdate) ||
      kind > static_cast<std::uint8_t>(KeeperKind::kResync)) {
    error = "a keeper message of unknown kind " + std::to_string(kind);
    return false;
  }
  base::RecordReader r(bytes.substr(1));
  KeeperMessage out;
  out.kind = static_cast<KeeperKind>(kind);
  out.nonce = r.u64();
  for (std::uint64_t n = r.u64_at_most(kMaxEntries, "the entries"); r.ok() && n > 0; --n) {
    KeptEntry e;
    e.gone = r.boolean();
    e.sid = r.text(kMaxSid, "a sid");
    if (!e.gone) {
      e.session = r.text(kMaxRecord, "a session record");
      e.link = r.text(kMaxRecord, "a link record");
      e.read = r.u64();
      e.written = r.u64();
      e.fd = r.boolean();
      e.websocket = r.boolean();
      if (e.websocket) {
        e.client_read = r.u64();
        e.client_written = r.u64();
      }
    }
    out.entries.push_back(std::move(e));
  }
  if (r.ok() && !r.at_end()) r.fail("keeper message", "bytes follow its end");
  if (!r.ok()) {
    error = "bad keeper message: " + r.error();
    return false;
  }
  message = std::move(out);
  return true;
}

}  // namespace sb::app
