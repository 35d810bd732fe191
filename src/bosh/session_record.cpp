#include "bosh/session_record.hpp"

#include "base/record_codec.hpp"

namespace sb::bosh {
namespace {

// The first bytes of every BOSH session record, before its version.
constexpr std::string_view kMagic = "SBbs";
// Bounds a sane record stays within; anything beyond is damage, not a session.
constexpr std::size_t kMaxName = 1024;           // sid, host, domain, version strings
constexpr std::size_t kMaxBytes = 256u << 20;    // a body, the outbox
constexpr std::uint64_t kMaxItems = 1u << 20;    // held, early, cached
constexpr std::uint64_t kMaxSeconds = 1u << 30;  // wait, inactivity, ...

void put_optional_text(base::RecordWriter& w, const std::optional<std::string>& text) {
  w.boolean(text.has_value());
  if (text) w.text(*text);
}

std::optional<std::string> get_optional_text(base::RecordReader& r, std::size_t max,
                                             const char* what) {
  if (!r.boolean()) return std::nullopt;
  return r.text(max, what);
}

void put_request(base::RecordWriter& w, const ClientRequest& request) {
  w.u64(request.rid);
  w.boolean(request.terminate);
  w.boolean(request.restart);
  w.boolean(request.pause.has_value());
  if (request.pause) w.u64(*request.pause);
  w.text(request.payload);
  w.u64(request.payload_elements);
  w.boolean(request.ack.has_value());
  if (request.ack) w.u64(*request.ack);
  put_optional_text(w, request.key);
  put_optional_text(w, request.newkey);
}

ClientRequest get_request(base::RecordReader& r) {
  ClientRequest request;
  request.rid = r.u64_at_most(kMaxRid, "an early request's rid");
  request.terminate = r.boolean();
  request.restart = r.boolean();
  if (r.boolean())
    request.pause = static_cast<std::uint32_t>(r.u64_at_most(kMaxSeconds, "a pause"));
  request.payload = r.text(kMaxBytes, "an early request's payload");
  request.payload_elements = r.u64_at_most(kMaxBytes, "an early request's element count");
  if (r.boolean()) request.ack = r.u64_at_most(kMaxRid, "an early request's ack");
  request.key = get_optional_text(r, kMaxName, "an early request's key");
  request.newkey = get_optional_text(r, kMaxName, "an early request's newkey");
  return request;
}

}  // namespace

std::size_t SessionRecord::connections() const {
  std::size_t count = early.size();
  for (const Held& h : held) count += h.connected ? 1 : 0;
  return count;
}

std::string encode(const SessionRecord& record) {
  base::RecordWriter w;
  w.head(kMagic, kSessionRecordVersion);
  w.text(record.sid);
  w.text(record.peer);
  w.u64(record.wait);
  w.u64(record.hold);
  w.u64(record.inactivity);
  w.u64(record.polling);
  w.u64(record.maxpause);
  w.boolean(record.acks);
  put_optional_text(w, record.ver);
  w.text(record.target.host);
  w.u64(record.target.port);
  w.text(record.target.to);
  w.text(record.target.from);
  w.text(record.target.lang);
  w.text(record.target.version);
  w.text(record.content_type);
  w.boolean(record.server.has_value());
  if (record.server) {
    w.text(record.server->id);
    w.text(record.server->from);
    w.text(record.server->version);
  }
  w.u64(static_cast<std::uint64_t>(record.state));
  // By name, not by number: the enum may be reordered, the names are XEP-0124's.
  w.text(engine::condition_name(record.end_condition));
  w.boolean(record.upstream_dead);
  w.u64(record.creation_rid);
  w.u64(record.last_rid);
  w.u64(record.inactivity_left_ms);
  w.u64(record.since_last_arrival_ms);
  w.boolean(record.last_was_empty_poll);
  w.boolean(record.last_response_empty);
  w.u64(record.held.size());
  for (const SessionRecord::Held& held : record.held) {
    w.u64(held.rid);
    w.u64(held.wait_left_ms);
    w.boolean(held.connected);
    w.u64(held.lost_for_ms);
  }
  w.u64(record.early.size());
  for (const ClientRequest& request : record.early) put_request(w, request);
  w.u64(record.cache.size());
  for (const SessionRecord::Cached& cached : record.cache) {
    w.u64(cached.rid);
    w.text(cached.body);
    w.u64(cached.age_ms);
  }
  put_optional_text(w, record.outbox);
  put_optional_text(w, record.key);
  w.u64(record.report_rid);
  w.u64(record.report_ms);
  return w.take();
}

bool decode(std::string_view bytes, SessionRecord& record, std::string& error) {
  base::RecordReader r(bytes);
  if (!r.head(kMagic, kSessionRecordVersion, "BOSH session record", "a BOSH session record", error))
    return false;
  SessionRecord out;
  out.sid = r.text(kMaxName, "the sid");
  out.peer = r.text(kMaxName, "the client address");
  out.wait = static_cast<std::uint32_t>(r.u64_at_most(kMaxSeconds, "wait"));
  out.hold = static_cast<std::uint32_t>(r.u64_at_most(kMaxItems, "hold"));
  out.inactivity = static_cast<std::uint32_t>(r.u64_at_most(kMaxSeconds, "inactivity"));
  out.polling = static_cast<std::uint32_t>(r.u64_at_most(kMaxSeconds, "polling"));
  out.maxpause = static_cast<std::uint32_t>(r.u64_at_most(kMaxSeconds, "maxpause"));
  out.acks = r.boolean();
  out.ver = get_optional_text(r, kMaxName, "the BOSH version");
  out.target.host = r.text(kMaxName, "the server's host");
  out.target.port = static_cast<std::uint16_t>(r.u64_at_most(65535, "the server's port"));
  out.target.to = r.text(kMaxName, "the stream's to");
  out.target.from = r.text(kMaxName, "the stream's from");
  out.target.lang = r.text(kMaxName, "the stream's language");
  out.target.version = r.text(kMaxName, "the stream's version");
  out.content_type = r.text(kMaxName, "the content type");
  if (r.boolean()) {
    engine::StreamHeader server;
    server.id = r.text(kMaxName, "the server's stream id");
    server.from = r.text(kMaxName, "the server's domain");
    server.version = r.text(kMaxName, "the server's stream version");
    out.server = std::move(server);
  }
  out.state = static_cast<SessionRecord::State>(r.u64_at_most(2, "the state"));
  const std::string condition = r.text(kMaxName, "the end condition");
  if (!condition.empty()) {
    const std::optional<engine::Condition> known = engine::condition_from_name(condition);
    if (!known) r.fail("the end condition", "it is not a BOSH condition");
    out.end_condition = known.value_or(engine::Condition::kNone);
  }
  out.upstream_dead = r.boolean();
  out.creation_rid = r.u64_at_most(kMaxRid, "the creation rid");
  out.last_rid = r.u64_at_most(kMaxRid, "the last rid");
  out.inactivity_left_ms = r.u64_at_most(kMaxSeconds * 1000, "the inactivity left");
  out.since_last_arrival_ms = r.u64();
  out.last_was_empty_poll = r.boolean();
  out.last_response_empty = r.boolean();
  for (std::uint64_t n = r.u64_at_most(kMaxItems, "the held requests"); r.ok() && n > 0; --n) {
    SessionRecord::Held held;
    held.rid = r.u64_at_most(kMaxRid, "a held request's rid");
    held.wait_left_ms = r.u64_at_most(kMaxSeconds * 1000, "a held request's wait");
    held.connected = r.boolean();
    held.lost_for_ms = r.u64();
    out.held.push_back(held);
  }
  for (std::uint64_t n = r.u64_at_most(kMaxItems, "the early requests"); r.ok() && n > 0; --n) {
    out.early.push_back(get_request(r));
  }
  for (std::uint64_t n = r.u64_at_most(kMaxItems, "the kept responses"); r.ok() && n > 0; --n) {
    SessionRecord::Cached cached;
    cached.rid = r.u64_at_most(kMaxRid, "a kept response's rid");
    cached.body = r.text(kMaxBytes, "a kept response");
    cached.age_ms = r.u64();
    out.cache.push_back(std::move(cached));
  }
  out.outbox = get_optional_text(r, kMaxBytes, "the outbox");
  out.key = get_optional_text(r, kMaxName, "the key chain");
  out.report_rid = r.u64_at_most(kMaxRid, "the reported rid");
  out.report_ms = r.u64();
  if (r.ok() && out.sid.empty()) r.fail("the sid", "it is empty");
  if (!r.end("BOSH session record", error)) return false;
  record = std::move(out);
  return true;
}

}  // namespace sb::bosh
