// The byte forms of the upgrade channel's messages; see upgrade_wire.hpp.
#include "app/upgrade/upgrade_wire.hpp"

#include <ctime>

#include "base/record_codec.hpp"

namespace sb::app {
namespace {
constexpr std::size_t kMaxText = 256;
constexpr std::size_t kMaxRecord = 512u << 20;
constexpr std::uint64_t kMaxSockets = 16;
constexpr std::uint64_t kMaxStartSockets = 256;  // a supervisor's: one channel per worker
constexpr std::size_t kMaxRequest = 32u << 20;   // as a hand-over frame's (handover_wire.hpp)
constexpr std::uint64_t kMaxItems = 1u << 20;
constexpr std::uint64_t kMaxConnections = 64;

bool finish(base::RecordReader& r, const char* what, std::string& error) {
  if (r.ok() && !r.at_end()) r.fail(what, "bytes follow its end");
  if (r.ok()) return true;
  error = std::string("bad ") + what + ": " + r.error();
  return false;
}
}  // namespace

std::string encode(const StartMessage& message) {
  base::RecordWriter w;
  w.u64(message.sockets.size());
  for (const StartMessage::Socket& s : message.sockets) {
    w.text(s.role);
    w.text(s.address);
  }
  return w.take();
}

bool decode(std::string_view bytes, StartMessage& message, std::string& error) {
  base::RecordReader r(bytes);
  StartMessage out;
  for (std::uint64_t n = r.u64_at_most(kMaxStartSockets, "the sockets"); r.ok() && n > 0; --n) {
    StartMessage::Socket s;
    s.role = r.text(kMaxText, "a socket's role");
    s.address = r.text(kMaxText, "a socket's address");
    out.sockets.push_back(std::move(s));
  }
  if (!finish(r, "upgrade start message", error)) return false;
  message = std::move(out);
  return true;
}

std::string encode(const std::vector<MovingItem>& batch) {
  base::RecordWriter w;
  w.u64(batch.size());
  for (const MovingItem& item : batch) {
    w.u64(static_cast<std::uint64_t>(item.type));
    w.text(item.session);
    w.text(item.link);
    w.u64(item.connections.size());
    for (const std::string& c : item.connections) w.text(c);
  }
  return w.take();
}

bool decode(std::string_view bytes, std::vector<MovingItem>& batch, std::string& error) {
  base::RecordReader r(bytes);
  std::vector<MovingItem> out;
  for (std::uint64_t n = r.u64_at_most(kMaxItems, "the items"); r.ok() && n > 0; --n) {
    MovingItem item;
    const std::uint64_t type = r.u64_at_most(3, "an item's type");
    if (r.ok() && type == 0) r.fail("an item's type", "it is 0");
    item.type = static_cast<MovingItem::Type>(type);
    item.session = r.text(kMaxRecord, "a session record");
    item.link = r.text(kMaxRecord, "a link record");
    for (std::uint64_t c = r.u64_at_most(kMaxConnections, "the connections"); r.ok() && c > 0;
         --c) {
      item.connections.push_back(r.text(kMaxText * 64, "a connection record"));
    }
    if (r.ok() && item.type == MovingItem::Type::kIdle &&
        (item.connections.size() != 1 || !item.link.empty() || !item.session.empty())) {
      r.fail("an idle connection", "it is not one connection alone");
    }
    if (r.ok() && item.type == MovingItem::Type::kWebSocket && !item.connections.empty()) {
      r.fail("a WebSocket session", "it lists HTTP connections");
    }
    out.push_back(std::move(item));
  }
  if (!finish(r, "upgrade batch", error)) return false;
  batch = std::move(out);
  return true;
}

std::string encode(const ForwardMessage& message) {
  base::RecordWriter w;
  w.text(message.request);
  w.text(message.peer);
  w.u64(message.tls_relayed ? 1 : 0);
  w.text(message.connection);
  return w.take();
}

bool decode(std::string_view bytes, ForwardMessage& message, std::string& error) {
  base::RecordReader r(bytes);
  ForwardMessage out;
  out.request = r.text(kMaxRequest, "a forwarded request");
  out.peer = r.text(kMaxText, "a forwarded request's peer");
  out.tls_relayed = r.u64_at_most(1, "the TLS relay flag") == 1;
  out.connection = r.text(kMaxText * 64, "a forwarded connection record");
  if (!finish(r, "upgrade forward message", error)) return false;
  message = std::move(out);
  return true;
}

std::uint64_t monotonic_ns() {
  timespec now{};
  clock_gettime(CLOCK_MONOTONIC, &now);
  return static_cast<std::uint64_t>(now.tv_sec) * 1000000000u +
         static_cast<std::uint64_t>(now.tv_nsec);
}

std::string encode(const EndMessage& message) {
  base::RecordWriter w;
  w.u64(message.sessions);
  w.u64(message.connections);
  w.u64(message.started_ns);
  w.u64(message.ended.size());
  for (const auto& [reason, count] : message.ended) {
    w.text(reason);
    w.u64(count);
  }
  return w.take();
}

bool decode(std::string_view bytes, EndMessage& message, std::string& error) {
  base::RecordReader r(bytes);
  EndMessage out;
  out.sessions = r.u64();
  out.connections = r.u64();
  out.started_ns = r.u64();
  for (std::uint64_t n = r.u64_at_most(kMaxSockets, "the reasons"); r.ok() && n > 0; --n) {
    std::string reason = r.text(kMaxText, "a reason");
    out.ended.emplace_back(std::move(reason), r.u64());
  }
  if (!finish(r, "upgrade end message", error)) return false;
  message = std::move(out);
  return true;
}

}  // namespace sb::app
