#include "bosh/endpoint.hpp"

#include <algorithm>
#include <cctype>
#include <charconv>

#include "bosh/body_writer.hpp"
#include "bosh/session.hpp"
#include "bosh/session_table.hpp"
#include "bosh/sid.hpp"
#include "engine/routing.hpp"
#include "engine/upstream.hpp"
#include "xml/body_parser.hpp"

namespace sb::bosh {
namespace {

constexpr std::string_view kOurVersion = "1.11";

constexpr std::string_view kInfoPage =
    "<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"><title>Switchboard BOSH endpoint</title>"
    "</head><body><h1>Switchboard BOSH endpoint</h1>"
    "<p>It works! Point your BOSH client (XEP-0124/XEP-0206) at this URL.</p></body></html>\n";

void send_terminal(http::Exchange& exchange, Condition condition, bool legacy) {
  exchange.send(terminal_response(condition, legacy));
}

std::string_view value_or(const std::string* value, std::string_view fallback) {
  return value != nullptr ? std::string_view(*value) : fallback;
}

}  // namespace

std::optional<std::uint64_t> parse_rid(std::string_view text) {
  if (text.empty() || text.size() > 16) return std::nullopt;
  std::uint64_t value = 0;
  auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (error != std::errc() || end != text.data() + text.size()) return std::nullopt;
  if (value == 0 || value > kMaxRid) return std::nullopt;
  return value;
}

std::optional<std::uint32_t> parse_seconds(std::string_view text) {
  if (text.empty() || text.size() > 9) return std::nullopt;
  std::uint32_t value = 0;
  auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (error != std::errc() || end != text.data() + text.size()) return std::nullopt;
  return value;
}

std::string negotiate_version(std::string_view client, std::string_view ours) {
  auto split = [](std::string_view v) -> std::optional<std::pair<unsigned, unsigned>> {
    const auto dot = v.find('.');
    if (dot == std::string_view::npos) return std::nullopt;
    unsigned major = 0, minor = 0;
    auto a = std::from_chars(v.data(), v.data() + dot, major);
    auto b = std::from_chars(v.data() + dot + 1, v.data() + v.size(), minor);
    if (a.ec != std::errc() || a.ptr != v.data() + dot || b.ec != std::errc() ||
        b.ptr != v.data() + v.size()) {
      return std::nullopt;
    }
    return std::pair{major, minor};
  };
  auto c = split(client);
  if (!c) return {};
  auto o = split(ours);
  return std::string(*c < *o ? client : ours);
}

Endpoint::Endpoint(SessionTable& table, engine::UpstreamFactory& upstreams)
    : table_(table), upstreams_(upstreams) {}

void Endpoint::handle(http::Request& request, http::Exchange& exchange) {
  if (request.method == http::Method::kGet || request.method == http::Method::kHead) {
    exchange.send(http::Response::text(200, "text/html; charset=utf-8", std::string(kInfoPage)));
    return;
  }
  xml::BoshBody body;
  if (auto error = xml::parse_body(request.body, body); error != xml::BodyError::kNone) {
    // Nothing can be trusted, not even a sid: an HTTP error, and no session touched.
    ++counters_.bad_requests;
    refused(request.peer, engine::Refusal::kBadBody, xml::body_error_text(error));
    exchange.send(
        http::Response::text(400, "text/plain; charset=utf-8",
                             "bad request: " + std::string(xml::body_error_text(error)) + "\n"));
    return;
  }
  const std::string* sid = body.attribute("sid");
  Session* session = sid != nullptr ? table_.find(*sid) : nullptr;
  // A legacy client (no `ver` at creation, §16) gets HTTP error codes. Only a
  // creation request or a live session tells; anything else is answered the
  // modern way, as Prosody and ejabberd do.
  const bool legacy = session != nullptr ? session->params().legacy()
                                         : sid == nullptr && body.attribute("ver") == nullptr;

  auto rid = parse_rid(value_or(body.attribute("rid"), {}));
  if (!rid) {
    // A request without a usable rid cannot take a place in any session's order.
    ++counters_.bad_requests;
    refused(request.peer, engine::Refusal::kBadRid, "missing or invalid rid");
    send_terminal(exchange, Condition::kBadRequest, legacy);
    return;
  }
  if (sid == nullptr) {
    create_session(body, *rid, request, exchange);
    return;
  }
  if (session == nullptr) {
    if (foreign_sids_ != nullptr && foreign_sids_->route(*sid, request, exchange)) return;
    ++counters_.unknown_sids;
    if (lost_sids_ != nullptr && lost_sids_->lost(*sid)) {
      ++counters_.lost_sids;
      refused(request.peer, engine::Refusal::kUnknownSid,
              "a session lost in a crash of the daemon");
      send_terminal(exchange, Condition::kRemoteConnectionFailed, legacy);
      return;
    }
    refused(request.peer, engine::Refusal::kUnknownSid, "unknown sid");
    send_terminal(exchange, Condition::kItemNotFound, legacy);
    return;
  }

  ClientRequest client;
  client.rid = *rid;
  client.terminate = value_or(body.attribute("type"), {}) == "terminate";
  client.restart = value_or(body.attribute("xmpp:restart"), {}) == "true";
  if (const std::string* pause = body.attribute("pause")) client.pause = parse_seconds(*pause);
  if (const std::string* ack = body.attribute("ack")) client.ack = parse_rid(*ack);
  if (const std::string* key = body.attribute("key")) client.key = *key;
  if (const std::string* newkey = body.attribute("newkey")) client.newkey = *newkey;
  client.payload = std::move(body.payload);
  client.payload_elements = body.payload_elements;
  if (engine::EngineEvents* events = table_.events()) {
    engine::RequestKind kind = engine::RequestKind::kEmpty;
    if (client.terminate) {
      kind = engine::RequestKind::kTerminate;
    } else if (client.restart) {
      kind = engine::RequestKind::kRestart;
    } else if (client.pause) {
      kind = engine::RequestKind::kPause;
    } else if (client.payload_elements > 0) {
      kind = engine::RequestKind::kPayload;
    }
    events->request_received(kind, client.payload_elements);
  }
  session->handle(std::move(client), exchange);
}

void Endpoint::refused(std::string_view peer, engine::Refusal refusal,
                       std::string_view reason) const {
  if (table_.events() != nullptr) table_.events()->request_refused(peer, refusal, reason);
}

void Endpoint::create_session(xml::BoshBody& body, std::uint64_t rid, http::Request& request,
                              http::Exchange& exchange) {
  const std::string& peer = request.peer;
  const EngineSettings& settings = table_.settings();
  const bool legacy = body.attribute("ver") == nullptr;
  if (shutting_down_) {
    ++counters_.refused_creations;
    refused(peer, engine::Refusal::kShuttingDown, "new session while shutting down");
    send_terminal(exchange, Condition::kSystemShutdown, legacy);
    return;
  }
  const std::string* to = body.attribute("to");
  if (to == nullptr || to->empty()) {
    ++counters_.refused_creations;
    refused(peer, engine::Refusal::kMissingTo, "new session without 'to'");
    send_terminal(exchange, Condition::kImproperAddressing, legacy);
    return;
  }
  auto address = engine::route_upstream(settings, *to, body.attribute("route"));
  if (!address) {
    ++counters_.refused_creations;
    refused(peer, engine::Refusal::kHostUnknown, "new session for a domain with no upstream");
    send_terminal(exchange, Condition::kHostUnknown, legacy);
    return;
  }
  const bool no_room = gate_ != nullptr && !gate_->admits_new_session();
  if (no_room && gate_->redirect_new_session(request)) {
    ++counters_.redirected;
    return;
  }
  if (no_room || table_.counts().full()) {
    // Genuine overload: 503 makes clients retry later rather than give up.
    ++counters_.refused_creations;
    if (no_room) ++counters_.refused_no_room;
    refused(peer, no_room ? engine::Refusal::kNoRoom : engine::Refusal::kMaxSessions,
            no_room ? "no room for new sessions" : "max_sessions reached");
    exchange.send(http::Response::unavailable("too many sessions, retry later\n", 1));
    return;
  }
  if (login_gate_ != nullptr && !admitting_queued_) {
    const engine::LoginGate::Decision decision = login_gate_->decide(queue_.size(), true);
    if (decision.verdict == engine::LoginGate::Verdict::kQueue) {
      // Its turn comes within kMaxQueuedMs: better than a refusal, which Strophe.js
      // retries at once and then only 8 s later (docs/operations.md).
      ++counters_.queued;
      queue_.push_back(Queued{request, &exchange, table_.timers().now_ms(), legacy});
      exchange.watch(this);
      return;
    }
    if (decision.verdict == engine::LoginGate::Verdict::kRefuse) {
      refuse_overloaded(peer, exchange, decision.retry_after_s);
      return;
    }
  }
  if (table_.counts().full_for(peer)) {
    // One address may not take the whole table (a configurable cap).
    ++counters_.refused_creations;
    refused(peer, engine::Refusal::kPerAddressCap, "max_sessions_per_ip reached");
    send_terminal(exchange, Condition::kPolicyViolation, legacy);
    return;
  }
  std::string sid = make_sid(settings.sid_prefix);
  if (sid.empty()) {
    send_terminal(exchange, Condition::kInternalServerError, legacy);
    return;
  }

  SessionParams params;
  auto wait = parse_seconds(value_or(body.attribute("wait"), {}));
  params.wait = std::min(wait.value_or(settings.default_wait), settings.max_wait);
  auto hold = parse_seconds(value_or(body.attribute("hold"), {}));
  params.hold = std::min(hold.value_or(1), settings.max_hold);
  params.inactivity = settings.inactivity;
  params.polling = settings.polling;
  params.maxpause = settings.maxpause;
  params.acks = value_or(body.attribute("ack"), {}) == "1";
  if (const std::string* ver = body.attribute("ver")) {
    std::string agreed = negotiate_version(*ver, kOurVersion);
    if (agreed.empty()) agreed = std::string(kOurVersion);
    params.ver = table_.share_version(std::move(agreed));
  }

  engine::UpstreamTarget target;
  target.host = address->host;
  target.port = address->port;
  target.to = *to;
  target.from = std::string(value_or(body.attribute("from"), {}));
  target.lang = std::string(value_or(body.attribute("xml:lang"), "en"));
  target.version = std::string(value_or(body.attribute("xmpp:version"), "1.0"));

  // `content` becomes a response header: accept only plain printable ASCII, so a
  // client cannot smuggle header lines in.
  std::string content(value_or(body.attribute("content"), {}));
  if (!std::all_of(content.begin(), content.end(), [](char c) { return c >= 0x20 && c < 0x7f; })) {
    content.clear();
  }
  auto session =
      std::make_unique<Session>(table_, std::move(sid), std::move(params),
                                table_.share_target(std::move(target)), rid, std::move(content));
  session->start_key_chain(value_or(body.attribute("newkey"), {}));
  ++counters_.sessions_created;
  Session& added = table_.add(std::move(session), peer);
  if (engine::EngineEvents* events = table_.events()) {
    events->session_created(added.sid(), peer, *to);
    events->request_received(engine::RequestKind::kCreate, 0);
  }
  added.start(upstreams_, exchange);
}

void Endpoint::refuse_new_sessions() {
  shutting_down_ = true;
  std::deque<Queued> queued = std::move(queue_);
  queue_.clear();
  for (Queued& waiting : queued) {
    if (waiting.exchange == nullptr) continue;
    waiting.exchange->watch(nullptr);
    ++counters_.refused_creations;
    refused(waiting.request.peer, engine::Refusal::kShuttingDown,
            "new session while shutting down");
    send_terminal(*waiting.exchange, Condition::kSystemShutdown, waiting.legacy);
  }
}

void Endpoint::set_login_gate(engine::LoginGate* gate) {
  login_gate_ = gate;
  if (gate != nullptr) gate->on_room([this] { drain_queue(); });
}

void Endpoint::refuse_overloaded(const std::string& peer, http::Exchange& exchange,
                                 std::uint32_t retry_after_s) {
  // Beyond what this worker can finish in time: an answer now, which clients
  // retry, costs far less than a login that times out after 10 s of work.
  ++counters_.refused_creations;
  ++counters_.refused_overload;
  refused(peer, engine::Refusal::kOverload,
          "overload: logins beyond what this worker can finish in time");
  exchange.send(http::Response::unavailable("overloaded, retry later\n", retry_after_s));
}

void Endpoint::drain_queue() {
  const std::uint64_t now = table_.timers().now_ms();
  while (!queue_.empty()) {
    Queued& front = queue_.front();
    if (front.exchange == nullptr) {  // the client went away while it waited
      queue_.pop_front();
      continue;
    }
    if (now - front.since_ms > kMaxQueuedMs) {
      Queued late = std::move(front);
      queue_.pop_front();
      late.exchange->watch(nullptr);
      if (engine::EngineEvents* events = table_.events())
        events->creation_waited(now - late.since_ms, false);
      refuse_overloaded(late.request.peer, *late.exchange, 1);
      continue;
    }
    if (login_gate_ == nullptr || !login_gate_->admit_queued()) return;
    Queued next = std::move(front);
    queue_.pop_front();
    next.exchange->watch(nullptr);
    if (engine::EngineEvents* events = table_.events())
      events->creation_waited(now - next.since_ms, true);
    admitting_queued_ = true;
    handle(next.request, *next.exchange);
    admitting_queued_ = false;
  }
}

void Endpoint::exchange_lost(http::Exchange& exchange) {
  for (Queued& queued : queue_) {
    if (queued.exchange == &exchange) queued.exchange = nullptr;
  }
}

}  // namespace sb::bosh
