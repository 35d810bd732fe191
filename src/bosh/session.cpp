#include "bosh/session.hpp"

#include <algorithm>
#include <utility>

#include "bosh/body_writer.hpp"
#include "bosh/session_table.hpp"
#include "bosh/settings.hpp"

namespace sb::bosh {
namespace {
constexpr std::uint64_t kMsPerSecond = 1000;
// A response counts as missing (§9.3) when the client still has not acknowledged
// it this long after it was sent; shorter gaps are responses still on their way.
constexpr std::uint64_t kReportAfterMs = 1000;
constexpr std::string_view kDefaultContentType = "text/xml; charset=utf-8";
}  // namespace

Session::Session(SessionTable& table, std::string sid, SessionParams params,
                 base::LocalShared<engine::UpstreamTarget> target, std::uint64_t creation_rid,
                 std::string content_type)
    : base::TimerNode(&Session::on_timer),
      table_(table),
      sid_(sid),
      params_(std::move(params)),
      target_(std::move(target)),
      creation_rid_(creation_rid),
      last_rid_(creation_rid) {
  // An idle session's biggest object: every byte here is a byte per session.
  static_assert(sizeof(void*) != 8 || sizeof(Session) <= 344, "an idle Session is 344 bytes");
  // Strophe.js, Converse.js and most clients send exactly the default: that costs
  // nothing; only an unusual `content` is kept.
  if (!content_type.empty() && content_type != kDefaultContentType)
    rare().content_type = std::move(content_type);
}

Session::~Session() {
  // Whatever still waits gets an answer: nobody may be left hanging, and no
  // exchange may keep a pointer to us.
  release_exchanges(Condition::kNone);
  if (upstream_ && !upstream_dead_) upstream_.release()->close();
}

base::TimerWheel& Session::timers() const { return table_.timers(); }

void Session::start(engine::UpstreamFactory& factory, http::Exchange& creation) {
  hold(creation, creation_rid_);
  upstream_ = factory.open(*target_, *this, engine::StanzaFraming::kBoshBody);
  if (!upstream_) {
    upstream_dead_ = true;
    finish(Condition::kRemoteConnectionFailed, {}, "no upstream");
    return;
  }
  rearm_timer();
}

// ---------------------------------------------------------------------------
// Requests from the client

void Session::handle(ClientRequest&& request, http::Exchange& exchange) {
  if (state_ == State::kEnded) {
    // The session ended while no request was waiting: this one learns why.
    // (An ended session keeps its terminal body in the outbox.)
    send_end(exchange, request.rid, take_outbox());
    table_.retire(*this);
    return;
  }
  const std::uint64_t rid = request.rid;
  if (rid <= last_rid_) {
    answer_repeat(rid, exchange);
    return;
  }
  if (rid > last_rid_ + 1 && replace_early(std::move(request), exchange)) return;
  if (overactive(request)) {
    // §11: more requests at once than agreed, or empty polls too often.
    send_terminal(exchange, Condition::kPolicyViolation);
    abort(Condition::kPolicyViolation, "overactivity");
    return;
  }
  last_arrival_ms_ = timers().now_ms();
  last_was_empty_poll_ = request.empty_poll();
  if (rid > last_rid_ + params_.requests()) {
    // Beyond the window (XEP-0124 §14.3): the session ends, item-not-found.
    send_terminal(exchange, Condition::kItemNotFound);
    abort(Condition::kItemNotFound, "rid beyond the window");
    return;
  }
  if (rid > last_rid_ + 1) {
    // Early: keep it until the rids below it have arrived.
    exchange.watch(this);
    rare().early.push_back(Early{&exchange, std::move(request)});
    return;
  }
  process(std::move(request), exchange);
  process_early();
}

bool Session::overactive(const ClientRequest& request) const {
  // Too many: more than `requests` new requests outstanding; one more is allowed
  // only to pause or terminate (§11). A request whose connection dropped is not
  // outstanding from the client's point of view: it failed.
  const std::size_t live_held = static_cast<std::size_t>(std::count_if(
      held_.begin(), held_.end(), [](const Held& h) { return h.exchange != nullptr; }));
  const std::size_t outstanding = live_held + early_count() + 1;
  const std::size_t allowed = params_.requests() + ((request.pause || request.terminate) ? 1 : 0);
  if (outstanding > allowed) return true;
  // Too frequent: two empty polls closer than `polling` seconds, while the
  // client already uses all its requests (§11), or, in a polling session
  // (hold=0), when the first poll's response was empty too (§12).
  if (params_.polling == 0 || !request.empty_poll() || !last_was_empty_poll_) return false;
  if (timers().now_ms() - last_arrival_ms_ >= params_.polling * kMsPerSecond) return false;
  if (params_.hold == 0) return last_response_empty_;
  return outstanding >= params_.requests();
}

void Session::take_acks(const ClientRequest& request) {
  if (!params_.acks) {
    // No acks: the client has at most `requests` requests outstanding, so with
    // this one in, it has every response up to rid - requests (§14). Those cannot
    // be asked for again and need not be kept.
    cache_.drop_through(request.rid > params_.requests() ? request.rid - params_.requests() : 0);
    return;
  }
  // The client has every response up to its ack; with no ack it has all of them
  // below this request (§9.2: the absence of ack is meaningful).
  const std::uint64_t acked = request.ack.value_or(request.rid - 1);
  cache_.drop_through(acked);
  // A response sent a while ago that the client still lacks: tell it (§9.3).
  if (!request.ack) return;
  const ResponseCache::Entry* missed = cache_.find(acked + 1);
  if (missed != nullptr && timers().now_ms() >= missed->sent_ms + kReportAfterMs) {
    rare().report_rid = missed->rid;
    rare_->report_ms = timers().now_ms() - missed->sent_ms;
  }
}

bool Session::replace_early(ClientRequest&& request, http::Exchange& exchange) {
  if (!rare_) return false;
  for (auto& early : rare_->early) {
    if (early.request.rid == request.rid) {
      // A resend of a request that still waits for a gap to fill: the older copy
      // gets the recoverable binding error, the newer one takes its place (R14).
      // It is not one more outstanding request.
      early.exchange->watch(nullptr);
      send_recoverable_error(*early.exchange);
      exchange.watch(this);
      early.exchange = &exchange;
      early.request = std::move(request);
      return true;
    }
  }
  return false;
}

void Session::process_early() {
  while (state_ != State::kEnded && has_early()) {
    std::vector<Early>& waiting = rare_->early;
    auto next = std::find_if(waiting.begin(), waiting.end(),
                             [&](const Early& e) { return e.request.rid == last_rid_ + 1; });
    if (next == waiting.end()) return;
    Early early = std::move(*next);
    waiting.erase(next);
    process(std::move(early.request), *early.exchange);
  }
}

void Session::process(ClientRequest&& request, http::Exchange& exchange) {
  if (keys() == nullptr && request.newkey) rare().keys = std::make_unique<KeyChain>();
  if (keys() != nullptr && !keys()->accept(request.key ? &*request.key : nullptr,
                                           request.newkey ? &*request.newkey : nullptr)) {
    // §15.3: a wrong or missing key: not processed, the session ends.
    send_terminal(exchange, Condition::kItemNotFound);
    abort(Condition::kItemNotFound, "wrong key");
    return;
  }
  last_rid_ = request.rid;
  take_acks(request);
  if (params_.acks && cache_.bytes() > table_.settings().max_session_queue_bytes) {
    // Unacknowledged responses are kept for retransmission, but not without bound.
    send_terminal(exchange, Condition::kPolicyViolation);
    abort(Condition::kPolicyViolation, "unacknowledged responses over the queue cap");
    return;
  }
  if (request.restart) {
    // XEP-0206 §5: a restart body should be empty; stanzas in it are ignored.
    upstream_->restart(*target_);
  } else if (!request.payload.empty()) {
    upstream_->send(request.payload);
  }
  if (request.terminate) {
    end_by_client(exchange, request.rid);
    return;
  }
  hold(exchange, request.rid);
  if (request.pause && params_.maxpause > 0) {
    // XEP-0124 §10: answer everything now, without payload, and allow a longer
    // silence (at most maxpause) until the next request.
    const std::uint32_t seconds = std::min(*request.pause, params_.maxpause);
    while (!held_.empty()) answer_oldest(false);
    inactivity_deadline_ms_ = timers().now_ms() + seconds * kMsPerSecond;
    rearm_timer();
    return;
  }
  if (report_rid() != 0) {
    // The report goes out at once, on this request's response.
    while (!held_.empty()) answer_oldest(true);
    rearm_timer();
    return;
  }
  deliver();
  while (held_.size() > params_.hold) answer_oldest(true);
  rearm_timer();
}

void Session::answer_repeat(std::uint64_t rid, http::Exchange& exchange) {
  if (const ResponseCache::Entry* cached = cache_.find(rid)) {
    http::Response response;
    response.content_type = content_type();
    response.body = cached->body;
    exchange.send(std::move(response));
    return;
  }
  for (auto& held : held_) {
    if (held.rid == rid) {
      // Received but not answered yet (R14): the older connection, if it is
      // still there, gets the recoverable error; the new one waits in its place.
      if (held.exchange != nullptr) {
        held.exchange->watch(nullptr);
        send_recoverable_error(*held.exchange);
      }
      exchange.watch(this);
      held.exchange = &exchange;
      if (held.lost_ms != 0) {
        held.lost_ms = 0;
        held.deadline_ms = timers().now_ms() + params_.wait * kMsPerSecond;
      }
      deliver();
      rearm_timer();
      return;
    }
  }
  // Answered and no longer cached: it cannot be resent (§14.3).
  send_terminal(exchange, Condition::kItemNotFound);
  abort(Condition::kItemNotFound, "repeated rid no longer cached");
}

void Session::hold(http::Exchange& exchange, std::uint64_t rid) {
  exchange.watch(this);
  held_.push_back(Held{&exchange, rid, timers().now_ms() + params_.wait * kMsPerSecond, 0});
}

void Session::end_by_client(http::Exchange& exchange, std::uint64_t rid) {
  // Older held requests are answered first (responses go out in rid order), then
  // the terminate request itself, carrying anything still queued.
  while (!held_.empty()) answer_oldest(true);
  mark_ended(Condition::kNone, "client terminate");
  send(exchange, rid, BodyWriter(outbox_bytes()).terminate(Condition::kNone).finish(outbox()),
       true);
  release_and_retire(Condition::kNone);
}

void Session::end(Condition condition) { finish(condition, {}, "ended by the server"); }

// ---------------------------------------------------------------------------
// Answering

std::string Session::take_outbox() {
  if (!outbox_) return {};
  std::string bytes = std::move(*outbox_);
  outbox_.reset();
  return bytes;
}

std::string_view Session::content_type() const {
  return rare_ && !rare_->content_type.empty() ? std::string_view(rare_->content_type)
                                               : kDefaultContentType;
}

std::string Session::take_response(std::uint64_t rid, bool with_payload) {
  std::string_view payload = with_payload ? outbox() : std::string_view();
  BodyWriter body(payload.size());
  if (rid == creation_rid_) {
    static const engine::StreamHeader kUnknown;
    const engine::StreamHeader& server = server_ ? *server_ : kUnknown;
    body.attr("sid", sid_.view())
        .attr("wait", params_.wait)
        .attr("requests", params_.requests())
        .attr("hold", params_.hold)
        .attr("inactivity", params_.inactivity)
        .attr("polling", params_.polling);
    if (params_.maxpause > 0) body.attr("maxpause", params_.maxpause);
    if (params_.acks) body.attr("ack", creation_rid_);
    body.attr("ver", params_.legacy() ? std::string_view("1.11") : std::string_view(*params_.ver))
        .attr("from", server.from.empty() ? target_->to : server.from);
    if (!server.id.empty()) body.attr("authid", server.id);
    body.attr("xmlns:xmpp", kXboshNs)
        .attr("xmpp:version",
              server.version.empty() ? std::string_view("1.0") : std::string_view(server.version))
        .attr("xmpp:restartlogic", "true");
  }
  if (rid != creation_rid_ && params_.acks && last_rid_ != rid) {
    // §9.1: the highest rid received with none missing below it.
    body.attr("ack", last_rid_);
  }
  if (report_rid() != 0 && rid == last_rid_) {
    body.attr("report", rare_->report_rid).attr("time", rare_->report_ms);
    rare_->report_rid = 0;
  }
  last_response_empty_ = payload.empty();
  if (rid == creation_rid_) server_.reset();
  std::string out = body.finish(payload);
  if (with_payload) outbox_.reset();  // an idle session keeps no buffer
  return out;
}

void Session::answer_oldest(bool with_payload) {
  Held held = held_.front();
  held_.erase(held_.begin());
  if (held.exchange == nullptr) {
    // Nobody is listening: an empty response goes to the cache (for a late
    // resend of this rid) and the server's data waits for a connected request.
    cache_response(held.rid, take_response(held.rid, false));
  } else {
    held.exchange->watch(nullptr);
    send(*held.exchange, held.rid, take_response(held.rid, with_payload), true);
  }
  if (held_.empty()) {
    // Inactivity counts from the last answer, or from when the client's last
    // connection dropped.
    const std::uint64_t since = held.lost_ms != 0 ? held.lost_ms : timers().now_ms();
    inactivity_deadline_ms_ = since + params_.inactivity * kMsPerSecond;
  }
}

void Session::deliver() {
  if (outbox_bytes() == 0 || state_ != State::kOpen) return;
  const bool someone_listens =
      std::any_of(held_.begin(), held_.end(), [](const Held& h) { return h.exchange != nullptr; });
  if (!someone_listens) return;
  // Responses go out in rid order: orphaned requests before the connected one
  // are answered (empty, cached) first.
  while (held_.front().exchange == nullptr) answer_oldest(false);
  answer_oldest(true);
}

http::SharedBody Session::cache_response(std::uint64_t rid, std::string body) {
  // Without acks the last `requests` responses are enough for a resend after a
  // broken connection (§14); with acks every unacknowledged one is kept.
  return cache_.add(rid, std::move(body), timers().now_ms(), params_.acks ? 0 : params_.requests());
}

void Session::send(http::Exchange& exchange, std::uint64_t rid, std::string body, bool cache) {
  http::SharedBody shared =
      cache ? cache_response(rid, std::move(body)) : ResponseCache::share(std::move(body));
  http::Response response;
  response.content_type = content_type();
  response.body = std::move(shared);
  exchange.send(std::move(response));
}

void Session::send_terminal(http::Exchange& exchange, Condition condition) {
  exchange.watch(nullptr);
  exchange.send(terminal_response(condition, params_.legacy(), content_type()));
}

void Session::send_recoverable_error(http::Exchange& exchange) {
  http::Response response;
  response.content_type = content_type();
  response.body = std::make_shared<const std::string>(BodyWriter().attr("type", "error").finish());
  exchange.send(std::move(response));
}

void Session::release_exchanges(Condition condition) {
  while (!held_.empty()) {
    Held held = held_.front();
    held_.erase(held_.begin());
    if (held.exchange != nullptr) send_terminal(*held.exchange, condition);
  }
  while (has_early()) {
    Early early = std::move(rare_->early.front());
    rare_->early.erase(rare_->early.begin());
    send_terminal(*early.exchange, condition);
  }
}

// ---------------------------------------------------------------------------
// The end of a session

bool Session::mark_ended(Condition condition, const char* reason) {
  if (state_ == State::kEnded) return false;
  state_ = State::kEnded;
  end_condition_ = condition;
  end_reason_ = reason;
  close_upstream();
  return true;
}

void Session::release_and_retire(Condition condition) {
  release_exchanges(condition);
  table_.retire(*this);
}

void Session::finish(Condition condition, std::string&& detail, const char* reason) {
  if (!mark_ended(condition, reason)) return;
  // Stanzas still queued go out before the end, and a stream error inside it.
  std::string payload = take_outbox();
  payload.append(detail);
  std::string terminal = terminate_body(condition, payload);
  // Requests whose connection dropped cannot be told; the next one will be.
  held_.erase(std::remove_if(held_.begin(), held_.end(),
                             [](const Held& h) { return h.exchange == nullptr; }),
              held_.end());
  if (held_.empty()) {
    // Nobody to tell now: keep the news for the next request, for a while.
    outbox_ = std::make_unique<std::string>(std::move(terminal));
    inactivity_deadline_ms_ = timers().now_ms() + params_.inactivity * kMsPerSecond;
    release_exchanges(condition);
    rearm_timer();
    return;
  }
  Held oldest = held_.front();
  held_.erase(held_.begin());
  oldest.exchange->watch(nullptr);
  send_end(*oldest.exchange, oldest.rid, std::move(terminal));
  release_and_retire(condition);
}

void Session::send_end(http::Exchange& exchange, std::uint64_t rid, std::string terminal) {
  // A legacy client understands only HTTP error codes (§16); everyone else gets
  // the terminal body with whatever was still queued in it.
  if (params_.legacy() && legacy_http_status(end_condition_) != 0) {
    send_terminal(exchange, end_condition_);
    return;
  }
  send(exchange, rid, std::move(terminal), false);
}

void Session::abort(Condition condition, const char* reason) {
  // The client that caused the end was already told; tell the other waiting
  // requests and go.
  if (mark_ended(condition, reason)) release_and_retire(condition);
}

void Session::close_upstream() {
  if (upstream_ && !upstream_dead_) {
    upstream_dead_ = true;
    upstream_.release()->close();
  }
}

// ---------------------------------------------------------------------------
// Timers

void Session::rearm_timer() {
  table_.changed(*this);  // every change of state ends here
  if (!held_.empty()) {
    timers().arm_at(timer(), held_.front().deadline_ms);
  } else if (has_early()) {
    // Requests wait for a missing rid: give the gap the same wait, then give up.
    timers().arm_at(timer(), timers().now_ms() + params_.wait * kMsPerSecond);
  } else {
    timers().arm_at(timer(), inactivity_deadline_ms_);
  }
}

void Session::on_timer(base::TimerNode& node) {
  auto& self = static_cast<Session&>(node);
  const std::uint64_t now = self.timers().now_ms();
  if (self.state_ == State::kEnded) {
    self.table_.retire(self);
    return;
  }
  if (!self.held_.empty()) {
    while (!self.held_.empty() && self.held_.front().deadline_ms <= now) {
      self.answer_oldest(self.state_ == State::kOpen);
    }
    if (!self.held_.empty() || now < self.inactivity_deadline_ms_) {
      self.rearm_timer();
      return;
    }
  }
  if (self.has_early()) {
    // The missing rid never came: the client is broken beyond repair.
    self.abort(Condition::kItemNotFound, "a missing rid never came");
    return;
  }
  if (now >= self.inactivity_deadline_ms_) {
    // XEP-0124 §8: a session left without requests for `inactivity` seconds ends
    // silently; its server stream is closed cleanly.
    self.abort(Condition::kNone, "inactivity");
    return;
  }
  self.rearm_timer();
}

void Session::exchange_lost(http::Exchange& exchange) {
  auto held = std::find_if(held_.begin(), held_.end(),
                           [&](const Held& h) { return h.exchange == &exchange; });
  if (held != held_.end()) {
    // Keep its place for a resend, but no longer than inactivity allows.
    const std::uint64_t now = timers().now_ms();
    held->exchange = nullptr;
    held->lost_ms = now;
    held->deadline_ms = std::min(held->deadline_ms, now + params_.inactivity * kMsPerSecond);
  }
  if (rare_) {
    std::vector<Early>& waiting = rare_->early;
    auto early = std::find_if(waiting.begin(), waiting.end(),
                              [&](const Early& e) { return e.exchange == &exchange; });
    if (early != waiting.end()) waiting.erase(early);
  }
  if (state_ != State::kEnded) rearm_timer();
}

// ---------------------------------------------------------------------------
// Events from the server

void Session::upstream_opened(const engine::StreamHeader& header) {
  // Only the creation response reports the server's stream (authid, from).
  if (state_ == State::kOpening) server_ = std::make_unique<engine::StreamHeader>(header);
  if (state_ == State::kOpening) state_ = State::kOpen;
}

void Session::upstream_stanza(std::string&& stanza) {
  if (state_ == State::kEnded) return;
  if (outbox_bytes() + stanza.size() > table_.settings().max_session_queue_bytes) {
    // The client does not collect what the server sends: end the session rather
    // than grow without bound.
    finish(Condition::kPolicyViolation, {}, "server data over the queue cap");
    return;
  }
  if (!outbox_) outbox_ = std::make_unique<std::string>();
  outbox_->append(stanza);
  data_ready_ = true;
}

void Session::upstream_batch_end() {
  if (state_ == State::kEnded) return;
  if (!data_ready_) {
    // Part of a stanza was read: nothing to deliver, but where the session
    // stands in the server's stream moved (its link holds the part).
    table_.changed(*this);
    return;
  }
  data_ready_ = false;
  if (state_ == State::kOpening) state_ = State::kOpen;
  deliver();
  rearm_timer();
}

void Session::upstream_closed(engine::UpstreamEnd end, std::string&& detail) {
  upstream_dead_ = true;  // freed with the session, never from inside its callback
  // The client is told in BOSH terms: the server's stream error inside the
  // terminal body, a clean end without a condition.
  switch (end) {
    case engine::UpstreamEnd::kStreamError:
      finish(Condition::kRemoteStreamError, std::move(detail), "stream error from the server");
      return;
    case engine::UpstreamEnd::kServerClosed:
      finish(Condition::kNone, std::move(detail), "the server closed the stream");
      return;
    case engine::UpstreamEnd::kFailed: break;
  }
  finish(Condition::kRemoteConnectionFailed, std::move(detail), "upstream connection failed");
}

}  // namespace sb::bosh
