// The connection's request pipeline, limits and timers; see connection.hpp.
//
// Pending requests form a singly linked list of Slots in request order. A Slot is
// the Exchange handed to the handler; when it is answered its response is
// serialized into it, and flush() writes answered slots from the head of the list
// until it meets one still waiting. Refused requests get a Slot too, already
// answered, so their error goes out in order after the answers owed before them.
//
// One timer node serves every deadline, because a connection waits for at most one
// thing at a time: the rest of a request head (header_timeout_ms, then 408), the
// rest of a body (idle_timeout_ms, then 408), the next request on an idle
// keep-alive connection (idle_timeout_ms, then a silent close) or a deferred resume
// of parsing. While a handler holds a request nothing is armed here: the handler
// owns that wait (BOSH's `wait`). Once closed, the node bounds the transport's
// lingering close (linger()).
#include "http/connection.hpp"

#include <algorithm>
#include <utility>

#include "base/object_pool.hpp"
#include "http/http_date.hpp"
#include "http/response_head.hpp"
#include "http/status_text.hpp"

namespace sb::http {

class Connection::Slot final : public Exchange, public base::Pooled<Slot> {
 public:
  enum class State : std::uint8_t {
    kWaiting,  // the handler (or nobody yet) owes the answer
    kReady,    // answered; `answer` waits for the slots before this one
    kDone,     // written, lost, or answered after the connection closed
  };

  explicit Slot(Connection& connection) : connection_(connection) {}
  void send(Response response) override { connection_.send(*this, std::move(response)); }
  void switch_protocols(std::string raw_head) override {
    connection_.switch_protocols(*this, std::move(raw_head));
  }

  // The answer, once given: out of line because a slot mostly waits without one
  // (a held long poll), and a waiting slot is then 40 bytes smaller.
  struct Answer {
    std::string head;
    SharedBody body;
  };

  std::unique_ptr<Slot> next;
  std::unique_ptr<Answer> answer;  // set in kReady
  CorsPolicy::Match cors = CorsPolicy::kNone;
  State state = State::kWaiting;
  bool head_only = false;          // a HEAD request: no body bytes
  bool keep_alive_header = false;  // HTTP/1.0 client that asked for keep-alive
  bool close_after = false;        // the connection ends after this answer
  bool upgrade = false;            // the upgrade request: may switch protocols
  bool switching = false;          // the answer is a 101: the socket leaves once it is written

 private:
  Connection& connection_;
};

Connection::Connection(Transport& transport, Handler& handler, const ConnectionLimits& limits,
                       const CorsPolicy& cors, base::TimerWheel& wheel, std::string peer_ip)
    : base::TimerNode(&Connection::on_timer),
      parser_(limits),
      transport_(transport),
      handler_(handler),
      cors_(cors),
      wheel_(wheel),
      peer_ip_(std::move(peer_ip)) {
  // A held long poll keeps its slot for as long as it waits: keep it small.
  static_assert(sizeof(void*) != 8 || sizeof(Slot) <= 48, "a waiting slot is 48 bytes");
  // A client that connects and says nothing gets the header timeout, not the much
  // longer keep-alive idle timeout: it has not earned that yet.
  arm_timer(TimerPurpose::kIdle, limits.header_timeout_ms);
}

Connection::~Connection() {
  if (phase_ != Phase::kClosed) {
    phase_ = Phase::kClosed;
    lose_exchanges();
  }
}

void Connection::feed(std::string_view bytes) {
  if (phase_ == Phase::kUpgrading && !bytes.empty()) {
    // The next protocol's first bytes, before its 101 could be written: kept for
    // it (a client should wait for the 101, so this is rare and small).
    const ConnectionLimits& limits = parser_.limits();
    if (!leftover_) leftover_ = std::make_unique<std::string>();
    if (leftover_->size() + bytes.size() > limits.max_header_bytes + limits.max_body_bytes) {
      close_now();
      return;
    }
    leftover_->append(bytes);
    return;
  }
  // After a refusal or a "Connection: close" request, further bytes are discarded
  // (reading goes on so that the peer's EOF is still noticed).
  if (phase_ != Phase::kOpen || bytes.empty()) return;
  if (backlog_too_big()) {
    close_now();  // it keeps sending requests but does not read the answers
    return;
  }
  if (paused_) {
    // Reading was paused, but a read already under way may still arrive.
    const ConnectionLimits& limits = parser_.limits();
    const std::size_t cap = 2 * (limits.max_header_bytes + limits.max_body_bytes);
    if (!leftover_) leftover_ = std::make_unique<std::string>();
    if (leftover_->size() + bytes.size() > cap) {
      close_now();
      return;
    }
    leftover_->append(bytes);
    return;
  }
  parse(bytes);
}

void Connection::peer_closed() { close_now(); }

// Runs the parser over `data` event by event. Handlers are called from here, with
// no llhttp frame on the stack.
void Connection::parse(std::string_view data) {
  const ConnectionLimits& limits = parser_.limits();
  while (phase_ == Phase::kOpen) {
    const RequestParser::Step step = parser_.step(data);
    data.remove_prefix(step.consumed);
    switch (step.event) {
      case RequestParser::Event::kNeedMore: return;
      case RequestParser::Event::kMessageBegin:
        arm_timer(TimerPurpose::kHeader, limits.header_timeout_ms);
        break;
      case RequestParser::Event::kHeadersComplete:
        arm_timer(TimerPurpose::kBody, limits.idle_timeout_ms);
        if (parser_.expects_continue()) {
          // The interim answer belongs to this request: it may not overtake the
          // answers still owed to earlier ones.
          if (head_ == nullptr) {
            write_continue();
          } else {
            continue_owed_ = true;
          }
        }
        break;
      case RequestParser::Event::kRequestComplete:
        bytes_after_current_ = !data.empty();
        dispatch(data);
        if (phase_ == Phase::kOpen &&
            in_flight_ >= std::max<std::size_t>(limits.max_pipelined, 1)) {
          pause_parsing(data);
          return;
        }
        break;
      case RequestParser::Event::kError: refuse(parser_.error_status()); return;
    }
  }
}

// Gives the request just parsed a Slot at the end of the list and hands it to the
// handler, which may answer at once (send() from inside handle()).
void Connection::dispatch(std::string_view rest) {
  const bool http10 = parser_.http10();
  current_http10_ = http10;
  Request request = parser_.take_request();
  request.peer = peer_ip_;
  const bool upgrade = request.upgrade && request.head != nullptr;

  auto slot = std::make_unique<Slot>(*this);
  slot->cors = cors_.match(request.origin);
  slot->head_only = request.method == Method::kHead;
  slot->close_after = !request.keep_alive;
  slot->keep_alive_header = http10 && request.keep_alive;
  slot->upgrade = upgrade;
  Slot& exchange = *slot;
  append_slot(std::move(slot));
  continue_owed_ = false;
  if (upgrade) {
    // No HTTP after this request. What follows it belongs to the protocol the
    // handler may switch to; it is copied now, before the handler answers (perhaps
    // at once, with the 101), because `rest` lives in the caller's buffer.
    phase_ = Phase::kUpgrading;
    if (!rest.empty()) leftover_ = std::make_unique<std::string>(rest);
  } else if (!request.keep_alive) {
    stop_parsing();
  }
  settle_timer();

  // `exchange` may be freed during this call (answered and written at once).
  handler_.handle(request, exchange);
}

void Connection::append_slot(std::unique_ptr<Slot> slot) {
  Slot* added = slot.get();
  if (tail_ != nullptr) {
    tail_->next = std::move(slot);
  } else {
    head_ = std::move(slot);
  }
  tail_ = added;
  ++in_flight_;
}

// Answers a request the parser refused (or one that timed out) and ends the
// connection after it.
void Connection::refuse(int status) {
  if (phase_ != Phase::kOpen) return;
  stop_parsing();
  auto slot = std::make_unique<Slot>(*this);
  slot->close_after = true;
  Slot& exchange = *slot;
  append_slot(std::move(slot));
  send(exchange, Response::text(status, "text/plain; charset=utf-8",
                                std::string(status_text(status)) + "\n"));
}

void Connection::send(Slot& slot, Response response) {
  if (slot.state != Slot::State::kWaiting) return;  // a second answer, or a lost one
  if (phase_ == Phase::kClosed) {
    slot.state = Slot::State::kDone;
    return;
  }
  HeadOptions options;
  options.head_only = slot.head_only;
  options.close = response.close || slot.close_after;
  options.keep_alive_header = slot.keep_alive_header;
  options.cors = slot.cors;
  options.date = http_date_now();
  slot.close_after = options.close;
  slot.answer = std::make_unique<Slot::Answer>();
  slot.answer->head = format_response_head(response, cors_, options);
  if (!slot.head_only && status_allows_body(response.status))
    slot.answer->body = std::move(response.body);
  slot.state = Slot::State::kReady;
  // Nothing after a closing answer can be answered; stop reading requests now.
  if (response.close) stop_parsing();
  flush();
}

void Connection::switch_protocols(Slot& slot, std::string head) {
  if (slot.state != Slot::State::kWaiting) return;
  if (phase_ == Phase::kClosed) {
    slot.state = Slot::State::kDone;
    return;
  }
  if (!slot.upgrade || phase_ != Phase::kUpgrading) {
    // Not an upgrade request, or an earlier answer already ends the connection.
    send(slot, Response::text(500, "text/plain; charset=utf-8", "cannot switch protocols\n"));
    return;
  }
  slot.answer = std::make_unique<Slot::Answer>();
  slot.answer->head = std::move(head);
  slot.switching = true;
  slot.state = Slot::State::kReady;
  flush();
}

// The 101 is the last thing this connection writes: the socket, and the bytes that
// came after the upgrade request, go to the next protocol. Nothing is in flight
// (the upgrade request was the last one parsed), so no exchange is lost.
void Connection::hand_over_socket(std::string head) {
  phase_ = Phase::kClosed;
  base::TimerWheel::disarm(timer());
  timer_purpose_ = TimerPurpose::kNone;
  parser_.reset_message();
  paused_ = false;
  continue_owed_ = false;
  std::string first_bytes;
  if (leftover_) first_bytes = std::move(*leftover_);
  leftover_.reset();
  transport_.switch_protocols(std::move(head), first_bytes);
}

// Writes answered slots from the head of the list, in order.
void Connection::flush() {
  while (head_ != nullptr && head_->state == Slot::State::kReady) {
    if (backlog_too_big()) {
      close_now();
      return;
    }
    std::unique_ptr<Slot> slot = std::move(head_);
    head_ = std::move(slot->next);
    if (head_ == nullptr) tail_ = nullptr;
    --in_flight_;
    slot->state = Slot::State::kDone;
    if (slot->switching) {
      hand_over_socket(std::move(slot->answer->head));
      return;
    }
    transport_.write(std::move(slot->answer->head), std::move(slot->answer->body));
    if (slot->close_after) {
      close_now();
      return;
    }
  }
  if (phase_ == Phase::kClosed) return;
  if (head_ == nullptr && continue_owed_) {
    continue_owed_ = false;
    if (parser_.in_message()) write_continue();
  }
  // Parsing resumes from the timer, not from here: flush() usually runs inside a
  // handler's send(), and dispatching the next request from there would re-enter
  // the handler in the middle of its own work.
  if (paused_ && in_flight_ < std::max<std::size_t>(parser_.limits().max_pipelined, 1)) {
    arm_timer(TimerPurpose::kResume, 0);
  }
  settle_timer();
}

// No more requests will be read on this connection.
void Connection::stop_parsing() {
  if (phase_ != Phase::kOpen && phase_ != Phase::kUpgrading) return;
  phase_ = Phase::kDraining;
  parser_.reset_message();
  leftover_.reset();
  continue_owed_ = false;
  if (paused_) {
    paused_ = false;
    transport_.resume_reading();  // only to notice the peer's EOF; bytes are dropped
  }
  if (timer_purpose_ == TimerPurpose::kResume) {
    base::TimerWheel::disarm(timer());
    timer_purpose_ = TimerPurpose::kNone;
  }
}

void Connection::close_now() {
  if (phase_ == Phase::kClosed) return;
  phase_ = Phase::kClosed;
  base::TimerWheel::disarm(timer());
  timer_purpose_ = TimerPurpose::kNone;
  parser_.reset_message();
  leftover_.reset();
  paused_ = false;
  continue_owed_ = false;
  transport_.close();
  lose_exchanges();
}

// Tells the watcher of every unanswered exchange that it is gone, then frees the
// slots. The list is detached first and the slots stay alive until every watcher
// has been told, so a watcher may call send() on any of them (it is ignored).
bool Connection::movable() const { return why_not_movable().empty(); }

std::string_view Connection::why_not_movable() const {
  if (phase_ != Phase::kOpen) return "closing";
  if (paused_) return "paused";
  if (leftover_ != nullptr) return "bytes after an upgrade";
  if (continue_owed_) return "100-continue owed";
  if (parser_.in_message()) return "a request half read";
  for (const Slot* slot = head_.get(); slot != nullptr; slot = slot->next.get()) {
    if (slot->state != Slot::State::kWaiting) return "an answer not yet written";
    if (slot->upgrade) return "an upgrade";
    if (slot->close_after) return "closing after an answer";
  }
  return {};
}

ConnectionRecord Connection::record() const {
  ConnectionRecord record;
  record.peer = peer_ip_;
  for (const Slot* slot = head_.get(); slot != nullptr; slot = slot->next.get()) {
    record.in_flight.push_back(ConnectionRecord::InFlight{
        std::string(cors_.decision_text(slot->cors)), slot->head_only, slot->keep_alive_header});
  }
  return record;
}

std::vector<Exchange*> Connection::waiting_exchanges() {
  std::vector<Exchange*> out;
  for (Slot* slot = head_.get(); slot != nullptr; slot = slot->next.get()) out.push_back(slot);
  return out;
}

std::vector<Exchange*> Connection::adopt_in_flight(const ConnectionRecord& record,
                                                   CorsPolicy& cors) {
  std::vector<Exchange*> out;
  peer_ip_ = record.peer;
  for (const ConnectionRecord::InFlight& request : record.in_flight) {
    auto slot = std::make_unique<Slot>(*this);
    slot->cors = cors.admitted(request.cors);
    slot->head_only = request.head_only;
    slot->keep_alive_header = request.keep_alive_header;
    out.push_back(slot.get());
    append_slot(std::move(slot));
  }
  // Idle, it waits for the next request as any keep-alive connection does; with
  // requests held, their handlers own the wait.
  settle_timer();
  return out;
}

void Connection::let_go() {
  phase_ = Phase::kClosed;
  base::TimerWheel::disarm(timer());
  timer_purpose_ = TimerPurpose::kNone;
  for (Slot* slot = head_.get(); slot != nullptr; slot = slot->next.get()) {
    slot->state = Slot::State::kDone;
    slot->watch(nullptr);
  }
  head_.reset();
  tail_ = nullptr;
  in_flight_ = 0;
  leftover_.reset();
  parser_.reset_message();
}

void Connection::lose_exchanges() {
  std::unique_ptr<Slot> list = std::move(head_);
  tail_ = nullptr;
  in_flight_ = 0;
  for (Slot* slot = list.get(); slot != nullptr; slot = slot->next.get()) {
    if (slot->state != Slot::State::kWaiting) continue;
    slot->state = Slot::State::kDone;
    if (ExchangeWatcher* watcher = slot->watcher()) watcher->exchange_lost(*slot);
  }
  while (list != nullptr) list = std::move(list->next);
}

void Connection::pause_parsing(std::string_view rest) {
  paused_ = true;
  if (!rest.empty()) leftover_ = std::make_unique<std::string>(rest);
  transport_.pause_reading();
  settle_timer();
}

void Connection::resume_parsing() {
  if (phase_ != Phase::kOpen || !paused_) return;
  paused_ = false;
  transport_.resume_reading();
  // Parse from a local copy: the member is free to take new leftovers.
  const std::unique_ptr<std::string> rest = std::move(leftover_);
  if (rest != nullptr) parse(*rest);
  settle_timer();
}

void Connection::write_continue() { transport_.write("HTTP/1.1 100 Continue\r\n\r\n", nullptr); }

bool Connection::backlog_too_big() const {
  return transport_.queued_bytes() > parser_.limits().max_unsent_bytes;
}

void Connection::arm_timer(TimerPurpose purpose, std::uint64_t delay_ms) {
  timer_purpose_ = purpose;
  wheel_.arm(timer(), delay_ms);
}

// Chooses the deadline for the current state, after a request was dispatched or
// answers were written. A header/body deadline already armed for a request being
// read, or a pending resume, is left alone.
void Connection::settle_timer() {
  if (phase_ == Phase::kClosed || timer_purpose_ == TimerPurpose::kResume) return;
  if (parser_.in_message()) return;
  if (phase_ == Phase::kOpen && in_flight_ == 0 && !paused_) {
    arm_timer(TimerPurpose::kIdle, parser_.limits().idle_timeout_ms);
    return;
  }
  base::TimerWheel::disarm(timer());
  timer_purpose_ = TimerPurpose::kNone;
}

void Connection::linger(std::uint64_t delay_ms) {
  if (phase_ != Phase::kClosed) return;  // only the transport's close lingers
  arm_timer(TimerPurpose::kLinger, delay_ms);
}

void Connection::cancel_linger() {
  if (timer_purpose_ != TimerPurpose::kLinger) return;
  base::TimerWheel::disarm(timer());
  timer_purpose_ = TimerPurpose::kNone;
}

void Connection::on_timer(base::TimerNode& node) { static_cast<Connection&>(node).on_timeout(); }

void Connection::on_timeout() {
  const TimerPurpose purpose = timer_purpose_;
  timer_purpose_ = TimerPurpose::kNone;
  switch (purpose) {
    case TimerPurpose::kIdle: close_now(); break;
    case TimerPurpose::kHeader:
    case TimerPurpose::kBody: refuse(408); break;
    case TimerPurpose::kResume: resume_parsing(); break;
    case TimerPurpose::kLinger: transport_.linger_expired(); break;
    case TimerPurpose::kNone: break;
  }
}

}  // namespace sb::http
