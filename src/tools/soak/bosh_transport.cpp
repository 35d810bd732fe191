// BoshTransport: request scheduling, answers, resends, and the connection pool of
// one simulated browser session, as Strophe.js 5 does them or in the classic
// profile (--client; the rules are in bosh_transport.hpp).
#include "tools/soak/bosh_transport.hpp"

#include <cstring>

#include "base/timer_wheel.hpp"
#include "tools/soak/env.hpp"
#include "tools/soak/refusal.hpp"
#include "xml/escape.hpp"

namespace sb::soak {

namespace {

constexpr const char* kBoshNs = "http://jabber.org/protocol/httpbind";

std::string_view local_name(const char* name) {
  const char* colon = std::strchr(name, ':');
  return colon != nullptr ? std::string_view(colon + 1) : std::string_view(name);
}

}  // namespace

BoshTransport::BoshTransport(Env& env, TransportEvents* events) : env_(env), events_(events) {
  // A random first rid well below 2^53, leaving room for a long run (XEP-0124 §14.1).
  next_rid_ = 1'000'000 + env_.rng() % 1'000'000'000;
}

BoshTransport::~BoshTransport() = default;

std::string BoshTransport::body_open(std::uint64_t rid) const {
  std::string out = "<body rid='" + std::to_string(rid) + "' sid='";
  xml::append_escaped_attribute(out, sid_);
  out += "' xmlns='";
  out += kBoshNs;
  out += '\'';
  return out;
}

bool BoshTransport::strophe() const { return env_.options->client == BoshClient::kStrophe; }

void BoshTransport::open() {
  const Options& o = *env_.options;
  std::string body = "<body content='text/xml; charset=utf-8' hold='" + std::to_string(o.hold) +
                     "' rid='" + std::to_string(next_rid_) + "' to='";
  xml::append_escaped_attribute(body, o.domain);
  body += "' ver='1.6' wait='" + std::to_string(o.wait) + "' xml:lang='en' xmpp:version='1.0'";
  if (o.ack) body += " ack='1'";
  body += " xmlns='";
  body += kBoshNs;
  body += "' xmlns:xmpp='urn:xmpp:xbosh'/>";
  wait_s_ = o.wait;
  state_ = State::kCreating;
  ++env_.interval.tally.login_attempts;
  issue(std::move(body), Kind::kCreate);
}

void BoshTransport::send(std::string stanza) {
  if (state_ == State::kEnded || close_pending_) return;
  queue_.append(stanza);
  pump();
}

void BoshTransport::restart() {
  restart_pending_ = true;
  pump();
}

void BoshTransport::close(std::string last) {
  if (state_ == State::kEnded || close_pending_) return;
  if (state_ == State::kNew || state_ == State::kCreating) {
    // No sid yet: nothing to terminate at the server; just stop.
    end("");
    return;
  }
  close_pending_ = true;
  last_ = std::move(last);
  pump();
}

// Sends what the rules allow: a restart alone, then queued stanzas, then the
// terminate; an empty poll only when nothing at all is outstanding.
void BoshTransport::pump() {
  while (state_ == State::kOpen) {
    const bool room = pending_.size() < requests_;
    if (restart_pending_) {
      if (!room) return;
      restart_pending_ = false;
      std::string body = body_open(next_rid_) + " to='";
      xml::append_escaped_attribute(body, env_.options->domain);
      body += "' xml:lang='en' xmpp:restart='true' xmlns:xmpp='urn:xmpp:xbosh'/>";
      issue(std::move(body), Kind::kNormal);
    } else if (close_pending_) {
      // The terminate may take the slot beyond `requests` (XEP-0124 §11 lets a
      // client exceed it to terminate), carrying any stanzas still queued.
      if (pending_.size() > requests_) return;
      std::string body = body_open(next_rid_) + " type='terminate'>" + queue_ + last_ + "</body>";
      queue_.clear();
      close_pending_ = false;
      state_ = State::kClosing;
      issue(std::move(body), Kind::kTerminate);
      return;
    } else if (!queue_.empty()) {
      if (!room) return;
      std::string body = body_open(next_rid_) + ">" + queue_ + "</body>";
      std::string().swap(queue_);
      issue(std::move(body), Kind::kNormal);
    } else if (pending_.empty()) {
      issue(body_open(next_rid_) + "/>", Kind::kNormal);
    } else {
      return;
    }
  }
}

void BoshTransport::issue(std::string body, Kind kind) {
  Pending p;
  p.rid = next_rid_++;
  p.body = std::move(body);
  p.kind = kind;
  pending_.push_back(std::move(p));
  Pending& last = pending_.back();
  // Strophe builds the request now but sends it only within the window
  // (_throttledRequestHandler); the classic profile never has a gap to wait for.
  if (!strophe() || within_window(last)) transmit(last);
}

// Strophe sends the oldest outstanding request, and the second one only when its
// rid is within the server's `requests` of the first. With at most two
// outstanding, a second one waits only after a newer rid was answered before an
// older one that is still to be resent ([N, N+2]). The terminate goes at once
// (the end of the run is not what the profile is about).
bool BoshTransport::within_window(const Pending& p) const {
  if (p.kind == Kind::kTerminate) return true;
  const auto i = static_cast<std::size_t>(&p - pending_.data());
  return i == 0 || (i == 1 && p.rid - pending_.front().rid < window_);
}

// Requests that were waiting for the window and now fit in it go out.
void BoshTransport::send_waiting() {
  for (std::size_t i = 0; i < pending_.size() && state_ != State::kEnded; ++i) {
    Pending& p = pending_[i];
    if (!p.sent && within_window(p)) transmit(p);
  }
}

HttpConnection* BoshTransport::pick_connection() {
  for (auto& c : conns_) {
    if (c && c->open() && !c->busy()) return c.get();
  }
  for (auto& c : conns_) {
    if (c && !c->busy()) return c.get();
  }
  for (auto& c : conns_) {
    if (!c) {
      c = std::make_unique<HttpConnection>(env_, static_cast<HttpOwner*>(this));
      return c.get();
    }
  }
  return nullptr;  // cannot happen: at most requests_ + 1 <= kMaxConnections in flight
}

void BoshTransport::transmit(Pending& p, std::uint64_t later_ms) {
  HttpConnection* conn = pick_connection();
  if (conn == nullptr) {
    end("internal");
    return;
  }
  p.conn = conn;
  p.sent = true;
  if (strophe() && held_until_ms_ > env_.now_ms()) {
    // Just after a --drop cut nothing of this session reaches the server before
    // --cut-delay has passed (the server has seen the reset by then, as it would
    // through a real link): the resend first, a newer request one tick later.
    const std::uint64_t hold =
        held_until_ms_ - env_.now_ms() + (p.sends > 0 ? 0 : base::TimerWheel::kTickMs);
    if (hold > later_ms) later_ms = hold;
  }
  if (p.sends < 255) ++p.sends;
  std::int64_t cut = -1;
  const double drop = env_.options->drop;
  // The session request and the terminate are never cut: a repeated session
  // request has no defined meaning in XEP-0124, and the end of the run is not
  // what flaky mode measures.
  if (drop > 0 && p.kind == Kind::kNormal) {
    if (env_.cut_debt > 0) {
      --env_.cut_debt;
      cut = 0;
    } else if (env_.uniform() < drop) {
      // Half the cuts at once (the answer is never read), half part-way into the
      // wait (which only a held request lives to see; see Env::cut_debt).
      cut = env_.uniform() < 0.5 ? 0
                                 : 1 + static_cast<std::int64_t>(env_.uniform() * wait_s_ * 1000.0);
    }
  }
  // Strophe gives a request floor(1.1 * wait) s from its send (checked by its
  // 100 ms idle loop) before it sends it again; classic waits wait + 10 s.
  const std::uint64_t timeout_ms = strophe()
                                       ? static_cast<std::uint64_t>(wait_s_) * 11 / 10 * 1000 + 100
                                       : (static_cast<std::uint64_t>(wait_s_) + 10) * 1000;
  conn->send(p.body, timeout_ms, cut, later_ms);
}

BoshTransport::Pending* BoshTransport::find(const HttpConnection& conn) {
  for (auto& p : pending_) {
    if (p.conn == &conn && !p.answered) return &p;
  }
  return nullptr;
}

void BoshTransport::on_response(HttpConnection& conn, int status, std::string_view body) {
  Pending* p = find(conn);
  if (p == nullptr) return;
  if (status >= 500 && status < 600 && p->kind == Kind::kCreate && state_ == State::kCreating) {
    refused(*p, status, conn.retry_after());
    return;
  }
  if (strophe() && status >= 500 && status < 600 && p->kind == Kind::kNormal) {
    // Strophe: a server error, counted and resent like a broken connection.
    const std::string kind = "http_" + std::to_string(status);
    env_.interval.tally.error(kind);
    p->conn = nullptr;
    strophe_failure(*p, kind, true);
    return;
  }
  if (status != 200) {
    if (p->kind == Kind::kTerminate || state_ == State::kClosing) {
      end("");
    } else {
      end("http_" + std::to_string(status));
    }
    return;
  }
  p->answered = true;
  p->conn = nullptr;
  p->answer.assign(body);
  if (strophe()) {
    // Strophe handles each answer as it comes (its _dataRecv), whatever its rid,
    // and a 200 clears its count of errors.
    errors_ = 0;
    const auto i = static_cast<std::size_t>(p - pending_.data());
    Pending done = std::move(pending_[i]);
    pending_.erase(pending_.begin() + static_cast<std::ptrdiff_t>(i));
    late_answer_ = done.rid < newest_handled_;
    if (done.rid > newest_handled_) newest_handled_ = done.rid;
    handle_answer(done);
    late_answer_ = false;
    if (state_ == State::kEnded) return;
    send_waiting();
  } else {
    process_answers();
  }
  if (state_ == State::kEnded) return;
  pump();
}

// Strophe answers a 5xx with the same request again (its rid and body), after
// its backoff; the client --retry-as plays decides when to stop (refusal.hpp).
void BoshTransport::refused(Pending& p, int status, std::int32_t retry_after_s) {
  const NextTry next = next_try_after_refusal(env_, refusals_, status, retry_after_s);
  if (!next.retry) {
    end(next.end_reason);
    return;
  }
  transmit(p, next.delay_ms);
}

void BoshTransport::on_failure(HttpConnection& conn, const char* kind) {
  Pending* p = find(conn);
  if (p == nullptr) return;
  if (p->kind == Kind::kTerminate) {
    end("");
    return;
  }
  const bool ours = std::strcmp(kind, "drop") == 0;
  if (strophe()) {
    // Strophe sees a broken connection (or our cut) as status 0: one error
    // (_hitError), and the same request again. Its own timeout (1.1 * wait) is
    // no error to Strophe; the report still counts it, like any other failure
    // that is not ours.
    if (!ours) env_.interval.tally.error(kind);
    if (ours)
      held_until_ms_ = env_.now_ms() + static_cast<std::uint64_t>(env_.options->cut_delay_ms);
    p->conn = nullptr;
    strophe_failure(*p, kind, std::strcmp(kind, "timeout") != 0);
    return;
  }
  if (!ours) {
    if (++p->tries >= kMaxTries || p->kind == Kind::kCreate) {
      end(kind);  // counted once, by whoever hears the end
      return;
    }
    env_.interval.tally.error(kind);
  }
  // The classic answer to a broken request: the same rid and body again, at once.
  ++env_.interval.tally.resends;
  transmit(*p);
}

// Strophe's _hitError and _processRequest: past 4 errors in a row the client
// gives up (CONNTIMEOUT), and a request sent more than 5 times is not sent again
// (Strophe then drops it; here the session ends, which is what follows anyway);
// else the same rid and body go again, at once after the first failure of this
// request and after min(floor(1.1 * wait), sends^3) s after the next ones.
void BoshTransport::strophe_failure(Pending& p, std::string_view kind, bool counts_error) {
  if (counts_error && ++errors_ > kStropheMaxErrors) {
    end("gave_up:" + std::string(kind));
    return;
  }
  if (p.sends > kStropheMaxSends) {
    end("gave_up:" + std::string(kind));
    return;
  }
  ++env_.interval.tally.resends;
  transmit(p, strophe_bosh_delay_ms(p.sends, wait_s_));
}

void BoshTransport::on_idle_closed(HttpConnection& /*conn*/) {}

void BoshTransport::process_answers() {
  while (!pending_.empty() && pending_.front().answered) {
    Pending p = std::move(pending_.front());
    pending_.erase(pending_.begin());
    handle_answer(p);
    if (state_ == State::kEnded) return;
  }
}

void BoshTransport::handle_answer(const Pending& p) {
  pugi::xml_document doc;
  const pugi::xml_parse_result ok =
      doc.load_buffer(p.answer.data(), p.answer.size(), pugi::parse_default, pugi::encoding_utf8);
  const pugi::xml_node body = doc.first_child();
  if (!ok || local_name(body.name()) != "body") {
    end(p.kind == Kind::kTerminate ? "" : "bad_body");
    return;
  }
  if (p.kind == Kind::kCreate) {
    sid_ = body.attribute("sid").as_string();
    if (sid_.empty()) {
      const char* type = body.attribute("type").as_string();
      end(std::strcmp(type, "terminate") == 0
              ? std::string("terminate:") + body.attribute("condition").as_string("unknown")
              : std::string("no_sid"));
      return;
    }
    const unsigned requests = body.attribute("requests").as_uint(2);
    // Strophe keeps at most 2 requests (_onIdle) and reads `requests` as the rid
    // window of the second one; classic keeps at most min(requests, 2).
    requests_ = static_cast<std::uint8_t>(
        strophe() ? 2 : (requests < 1 ? 1 : (requests > 2 ? 2 : requests)));
    window_ = static_cast<std::uint8_t>(requests < 1 ? 1 : (requests > 255 ? 255 : requests));
    const unsigned wait = body.attribute("wait").as_uint(wait_s_);
    if (wait > 0 && wait < wait_s_) wait_s_ = wait;
    state_ = State::kOpen;
    events_->on_open();
    if (state_ == State::kEnded) return;
  }
  for (const pugi::xml_node& child : body.children()) {
    if (child.type() != pugi::node_element) continue;
    events_->on_stanza(child);
    if (state_ == State::kEnded) return;
  }
  if (p.kind == Kind::kTerminate) {
    end("");
    return;
  }
  if (std::strcmp(body.attribute("type").as_string(), "terminate") == 0) {
    end(state_ == State::kClosing
            ? std::string()
            : std::string("terminate:") + body.attribute("condition").as_string("none"));
  }
}

// A connection idle for --conn-idle ms while another one is open is a spare and
// closes, so an idle session keeps the one that holds its long poll.
bool BoshTransport::is_spare(const HttpConnection& conn) const {
  for (const auto& c : conns_) {
    if (c && c.get() != &conn && c->open()) return true;
  }
  return false;
}

std::string BoshTransport::debug_state() const {
  std::string out = "sid " + sid_ + " state " + std::to_string(static_cast<int>(state_)) +
                    " queue " + std::to_string(queue_.size()) + "B";
  for (const Pending& p : pending_) {
    out += " [rid " + std::to_string(p.rid) + (p.answered ? " answered" : "") +
           (p.sent ? "" : " unsent") + " tries " + std::to_string(p.tries) + " sends " +
           std::to_string(p.sends) + (p.conn != nullptr && p.conn->busy() ? " busy" : "") + "]";
  }
  return out;
}

void BoshTransport::end(std::string_view error) {
  if (state_ == State::kEnded) return;
  state_ = State::kEnded;
  for (auto& c : conns_) c.reset();
  pending_.clear();
  std::string().swap(queue_);
  std::string().swap(last_);
  events_->on_ended(error);
}

}  // namespace sb::soak
