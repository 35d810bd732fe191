// Session::record, from_record and resume: a session taken out of this process as
// a SessionRecord and rebuilt from one (bosh/session_record.hpp). Kept apart from
// session.cpp, which is about the protocol; this is about carrying its state.
#include <algorithm>
#include <utility>

#include "base/check.hpp"
#include "bosh/session.hpp"
#include "bosh/session_table.hpp"

namespace sb::bosh {
namespace {
constexpr std::uint64_t kMsPerSecond = 1000;
// How long ago `then` was, by `now` (0 if `then` is later).
std::uint64_t since(std::uint64_t now, std::uint64_t then) { return now > then ? now - then : 0; }
// How long until `when`, by `now` (0 if it is past).
std::uint64_t until(std::uint64_t now, std::uint64_t when) { return when > now ? when - now : 0; }
}  // namespace

SessionRecord Session::record() const {
  const std::uint64_t now = timers().now_ms();
  SessionRecord r;
  r.sid = std::string(sid());
  r.peer = std::string(peer());
  r.wait = params_.wait;
  r.hold = params_.hold;
  r.inactivity = params_.inactivity;
  r.polling = params_.polling;
  r.maxpause = params_.maxpause;
  r.acks = params_.acks;
  if (!params_.legacy()) r.ver = *params_.ver;
  r.target = *target_;
  if (rare_) r.content_type = rare_->content_type;
  if (server_) r.server = *server_;
  r.state = state_ == State::kOpening ? SessionRecord::State::kOpening
            : state_ == State::kOpen  ? SessionRecord::State::kOpen
                                      : SessionRecord::State::kEnded;
  r.end_condition = end_condition_;
  r.upstream_dead = upstream_dead_ || !upstream_;
  r.creation_rid = creation_rid_;
  r.last_rid = last_rid_;
  r.inactivity_left_ms = until(now, inactivity_deadline_ms_);
  r.since_last_arrival_ms = since(now, last_arrival_ms_);
  r.last_was_empty_poll = last_was_empty_poll_;
  r.last_response_empty = last_response_empty_;
  for (const Held& held : held_) {
    r.held.push_back(SessionRecord::Held{held.rid, until(now, held.deadline_ms),
                                         held.exchange != nullptr,
                                         held.lost_ms != 0 ? since(now, held.lost_ms) : 0});
  }
  if (rare_) {
    for (const Early& early : rare_->early) r.early.push_back(early.request);
    if (rare_->keys) r.key = rare_->keys->expected();
    r.report_rid = rare_->report_rid;
    r.report_ms = rare_->report_ms;
  }
  for (const ResponseCache::Entry& cached : cache_) {
    r.cache.push_back(SessionRecord::Cached{cached.rid, *cached.body, since(now, cached.sent_ms)});
  }
  if (outbox_) r.outbox = *outbox_;
  return r;
}

std::vector<http::Exchange*> Session::exchanges() const {
  std::vector<http::Exchange*> out;
  for (const Held& held : held_) {
    if (held.exchange != nullptr) out.push_back(held.exchange);
  }
  if (rare_) {
    for (const Early& early : rare_->early) out.push_back(early.exchange);
  }
  return out;
}

void Session::let_held_requests_go() {
  if (state_ != State::kOpen) return;  // a creation's answer needs the server's stream
  while (!held_.empty()) {
    const Held held = held_.front();
    held_.erase(held_.begin());
    http::SharedBody body = cache_response(held.rid, take_response(held.rid, false));
    if (held.exchange == nullptr) continue;
    held.exchange->watch(nullptr);
    http::Response response;
    response.content_type = content_type();
    response.body = std::move(body);
    response.close = true;
    held.exchange->send(std::move(response));
  }
  inactivity_deadline_ms_ = timers().now_ms() + params_.inactivity * kMsPerSecond;
  rearm_timer();
}

bool Session::answer_held_due_within(std::uint64_t ms) {
  if (state_ != State::kOpen) return false;
  const std::uint64_t soon = timers().now_ms() + ms;
  bool answered = false;
  while (!held_.empty() && held_.front().deadline_ms <= soon) {
    answer_oldest(true);
    answered = true;
  }
  if (answered) rearm_timer();
  return answered;
}

Session::Departure Session::move_out() {
  Departure out;
  if (!upstream_dead_) out.upstream = std::move(upstream_);
  upstream_.reset();
  upstream_dead_ = true;
  out.exchanges = exchanges();
  for (http::Exchange* exchange : out.exchanges) exchange->watch(nullptr);
  held_.clear();
  if (rare_) rare_->early.clear();
  state_ = State::kEnded;
  end_reason_ = "moved to another process";
  table_.move_out(*this);
  return out;
}

std::unique_ptr<Session> Session::from_record(SessionTable& table, SessionRecord&& r) {
  SessionParams params;
  params.wait = r.wait;
  params.hold = r.hold;
  params.inactivity = r.inactivity;
  params.polling = r.polling;
  params.maxpause = r.maxpause;
  params.acks = r.acks;
  if (r.ver) params.ver = table.share_version(std::move(*r.ver));
  auto session = std::make_unique<Session>(table, std::move(r.sid), std::move(params),
                                           table.share_target(std::move(r.target)), r.creation_rid,
                                           std::move(r.content_type));
  Session& s = *session;
  const std::uint64_t now = s.timers().now_ms();
  if (r.server) s.server_ = std::make_unique<engine::StreamHeader>(std::move(*r.server));
  s.state_ = r.state == SessionRecord::State::kOpening ? State::kOpening
             : r.state == SessionRecord::State::kOpen  ? State::kOpen
                                                       : State::kEnded;
  s.end_condition_ = r.end_condition;
  if (s.state_ == State::kEnded) s.end_reason_ = "ended before it moved";
  s.upstream_dead_ = r.upstream_dead;
  s.last_rid_ = r.last_rid;
  s.inactivity_deadline_ms_ = now + r.inactivity_left_ms;
  s.last_arrival_ms_ = now - std::min(now, r.since_last_arrival_ms);
  s.last_was_empty_poll_ = r.last_was_empty_poll;
  s.last_response_empty_ = r.last_response_empty;
  for (const SessionRecord::Held& held : r.held) {
    // A lost request's clock keeps running from when it was lost (never 0: that
    // means connected).
    const std::uint64_t lost_ms =
        held.connected ? 0 : std::max<std::uint64_t>(1, now - std::min(now, held.lost_for_ms));
    s.held_.push_back(Held{nullptr, held.rid, now + held.wait_left_ms, lost_ms});
  }
  for (ClientRequest& request : r.early) {
    s.rare().early.push_back(Early{nullptr, std::move(request)});
  }
  for (SessionRecord::Cached& cached : r.cache) {
    s.cache_.add(cached.rid, std::move(cached.body), now - std::min(now, cached.age_ms), 0);
  }
  if (r.outbox) s.outbox_ = std::make_unique<std::string>(std::move(*r.outbox));
  if (r.key) {
    s.rare().keys = std::make_unique<KeyChain>();
    s.rare_->keys->start(*r.key);
  }
  if (r.report_rid != 0) {
    s.rare().report_rid = r.report_rid;
    s.rare_->report_ms = r.report_ms;
  }
  return session;
}

void Session::resume(std::unique_ptr<engine::Upstream> upstream,
                     const std::vector<http::Exchange*>& exchanges) {
  if (upstream) {
    upstream_ = std::move(upstream);
    upstream_dead_ = false;
  } else {
    upstream_dead_ = true;
  }
  auto next = exchanges.begin();
  const auto take = [&]() -> http::Exchange* {
    SB_CHECK(next != exchanges.end(), "an exchange for every connection the record lists");
    http::Exchange* exchange = next != exchanges.end() ? *next++ : nullptr;
    if (exchange != nullptr) exchange->watch(this);
    return exchange;
  };
  for (Held& held : held_) {
    if (held.lost_ms == 0) {
      held.exchange = take();
      // Without its connection the request waits as a lost one would.
      if (held.exchange == nullptr) held.lost_ms = std::max<std::uint64_t>(1, timers().now_ms());
    }
  }
  if (rare_) {
    std::vector<Early>& waiting = rare_->early;
    for (Early& early : waiting) early.exchange = take();
    waiting.erase(std::remove_if(waiting.begin(), waiting.end(),
                                 [](const Early& e) { return e.exchange == nullptr; }),
                  waiting.end());
  }
  if (state_ == State::kEnded && held_.empty()) {
    rearm_timer();
    return;
  }
  // The server may have been waiting on the move: whatever is queued goes out.
  deliver();
  rearm_timer();
}

}  // namespace sb::bosh
