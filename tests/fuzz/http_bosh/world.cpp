// The fuzz world's wiring, its commands and its invariants; see world.hpp.
//
// The limits are much smaller than production's so that a short input reaches
// them: three requests in flight per connection, 4 KiB bodies, six sessions of
// which four per address, 2 KiB of queued server bytes per session.
#include "http_bosh/world.hpp"

#include <algorithm>
#include <cstdio>

#include "bosh/condition.hpp"
#include "bosh/session.hpp"
#include "http_bosh/deterministic_sids.hpp"
#include "support/check.hpp"
#include "support/trace.hpp"

namespace sb::fuzz {
namespace {

constexpr std::uint64_t kMaxAdvanceMs = 600'000;
constexpr std::uint64_t kStepMs = 1000;
// No request may stay unanswered longer than this. A held request is answered
// after at most max_wait; one waiting for a missing rid, at the next wait or
// inactivity deadline after that; a pause stretches inactivity to maxpause. Twice
// max_wait plus the longest of those, plus a minute of slack.
constexpr std::uint64_t kMaxUnansweredMs = (2 * 120 + 120 + 60) * 1000;

constexpr const char* kPeers[] = {"192.0.2.1", "192.0.2.1", "192.0.2.2"};
constexpr const char* kOrigin = "https://chat.example";

enum Flags : std::uint32_t {
  kWithOrigin = 1,
  kClose = 2,
  kHttp10 = 4,
  kExpectContinue = 8,
  kOtherPath = 16,
};

// Replaces "$<digits>" by the sid of that session, so a script can name sessions.
std::string expand_sids(std::string_view body) {
  std::string out;
  out.reserve(body.size());
  for (std::size_t i = 0; i < body.size(); ++i) {
    if (body[i] == '$' && i + 1 < body.size() && body[i + 1] >= '0' && body[i + 1] <= '9') {
      std::uint32_t k = 0;
      std::size_t j = i + 1;
      for (; j < body.size() && j < i + 4 && body[j] >= '0' && body[j] <= '9'; ++j) {
        k = k * 10 + static_cast<std::uint32_t>(body[j] - '0');
      }
      out += fuzz_sid(k);
      i = j - 1;
    } else {
      out += body[i];
    }
  }
  return out;
}

std::string request_head(std::string_view method, std::uint32_t flags) {
  std::string head(method);
  head += (flags & kOtherPath) != 0 ? " /other" : " /http-bind";
  head += (flags & kHttp10) != 0 ? " HTTP/1.0\r\n" : " HTTP/1.1\r\n";
  head += "Host: fuzz\r\n";
  if ((flags & kWithOrigin) != 0) head += std::string("Origin: ") + kOrigin + "\r\n";
  if ((flags & kClose) != 0) {
    head += "Connection: close\r\n";
  } else if ((flags & kHttp10) != 0) {
    head += "Connection: keep-alive\r\n";
  }
  if ((flags & kExpectContinue) != 0) head += "Expect: 100-continue\r\n";
  return head;
}

std::string hex(std::size_t value) {
  char buffer[20];
  std::snprintf(buffer, sizeof buffer, "%zx", value);
  return buffer;
}

}  // namespace

World::Client::Client(World& world, std::string peer)
    : taps(*world.router_, world.wheel_),
      connection(std::make_unique<http::Connection>(transport, taps, world.limits_, world.cors_,
                                                    world.wheel_, std::move(peer))) {}

World::World() : cors_(std::vector<std::string>{kOrigin}) {
  reset_sids();
  settings_.max_wait = 120;
  settings_.default_wait = 60;
  settings_.max_hold = 2;
  settings_.inactivity = 60;
  settings_.polling = 2;
  settings_.maxpause = 120;
  settings_.max_session_queue_bytes = 2048;
  settings_.max_sessions = 6;
  settings_.max_sessions_per_ip = 4;
  settings_.domains.emplace("localhost", engine::UpstreamAddress{"127.0.0.1", 5222});
  settings_.domains.emplace("example.com", engine::UpstreamAddress{"127.0.0.1", 5223});
  settings_.allowed_routes.push_back({"127.0.0.1", 5269});

  limits_.max_header_bytes = 1024;
  limits_.max_body_bytes = 4096;
  limits_.max_url_bytes = 256;
  limits_.max_pipelined = 3;
  limits_.max_unsent_bytes = 8192;

  table_ = std::make_unique<bosh::SessionTable>(settings_, wheel_, counts_);
  endpoint_ = std::make_unique<bosh::Endpoint>(*table_, upstreams_);
  router_ = std::make_unique<http::Router>(cors_);
  router_->add("/http-bind", {http::Method::kPost, http::Method::kGet, http::Method::kHead},
               *endpoint_);
  for (std::size_t i = 0; i < kClients; ++i) open_client(i);
}

World::~World() {
  if (!finished_) finish();
}

void World::open_client(std::size_t index) {
  clients_[index] = std::make_unique<Client>(*this, kPeers[index]);
}

// The socket is gone: its Connection is destroyed (telling the watchers of what it
// still owed), then its taps, which no one may use any more.
void World::drop_client(std::size_t index) {
  Client& gone = *clients_[index];
  gone.connection.reset();
  for (const auto& tap : gone.taps.taps()) {
    FUZZ_CHECK(tap->state() != TapExchange::State::kPending,
               "exchange neither answered nor lost when its connection ended, seq " +
                   std::to_string(tap->seq()));
  }
  open_client(index);
}

void World::queue_read(Client& target, std::string_view bytes, std::size_t chunk) {
  if (chunk == 0) chunk = bytes.size();
  for (std::size_t at = 0; at < bytes.size(); at += chunk) {
    target.inbox.emplace_back(bytes.substr(at, chunk));
  }
}

void World::post(const Command& command, bool chunked) {
  const std::uint32_t flags = command.b / 64;
  const std::size_t chunk = command.b % 64;
  const std::string body = expand_sids(command.payload);
  std::string request = request_head("POST", flags);
  request += "Content-Type: text/xml; charset=utf-8\r\n";
  if (chunked) {
    request += "Transfer-Encoding: chunked\r\n\r\n";
    const std::size_t piece = chunk == 0 ? 7 : chunk;
    for (std::size_t at = 0; at < body.size(); at += piece) {
      const std::string_view part = std::string_view(body).substr(at, piece);
      request += hex(part.size()) + "\r\n";
      request += part;
      request += "\r\n";
    }
    request += "0\r\n\r\n";
  } else {
    request += "Content-Length: " + std::to_string(body.size()) + "\r\n\r\n";
    request += body;
  }
  queue_read(client(command.a), request, chunk);
}

void World::simple_request(const Command& command) {
  static constexpr const char* kMethods[] = {"GET", "HEAD", "OPTIONS", "DELETE"};
  const std::uint32_t flags = command.b / 4;
  std::string request = request_head(kMethods[command.b % 4], flags);
  if (command.b % 4 == 2 && (flags & kWithOrigin) != 0) {
    request += "Access-Control-Request-Method: POST\r\n";
    request += "Access-Control-Request-Headers: content-type\r\n";
  }
  request += "\r\n";
  queue_read(client(command.a), request, 0);
}

// The server plays its part on upstream `a`, if that link can still hear it.
void World::server(const Command& command) {
  engine::UpstreamEvents* events = upstreams_.reachable(command.a);
  if (events == nullptr) return;
  switch (command.op) {
    case 'O': {
      const std::string from = command.payload.empty() ? "localhost" : std::string(command.payload);
      events->upstream_opened({"stream-" + std::to_string(command.a), from, "1.0"});
      break;
    }
    case 'S': events->upstream_stanza(std::string(command.payload)); break;
    case 'B': events->upstream_batch_end(); break;
    case 'X': {
      const auto end = static_cast<engine::UpstreamEnd>(
          command.b % (static_cast<unsigned>(engine::UpstreamEnd::kStreamError) + 1));
      upstreams_.server_closed(command.a);
      events->upstream_closed(end, std::string(command.payload));
      break;
    }
    default: break;
  }
}

// Time passes as the worker's ticker makes it pass: in small steps, so that a
// timer callback that arms the next deadline from now_ms() sees the time it fired
// at, not the end of a long jump (the wheel sets its clock before it fires).
void World::advance(std::uint64_t ms) {
  const std::uint64_t end = wheel_.now_ms() + std::min(ms, kMaxAdvanceMs);
  while (wheel_.now_ms() < end) wheel_.advance(std::min(end, wheel_.now_ms() + kStepMs));
}

void World::run(const Command& command) {
  if (tracing()) {
    trace("@" + std::string(1, command.op) + std::to_string(command.a) + "." +
              std::to_string(command.b),
          command.payload);
  }
  switch (command.op) {
    case 'F': queue_read(client(command.a), command.payload, command.b); break;
    case 'R':
      if (!client(command.a).transport.closed) client(command.a).connection->feed(command.payload);
      break;
    case 'P': post(command, false); break;
    case 'H': post(command, true); break;
    case 'G': simple_request(command); break;
    case 'E':
      if (!client(command.a).transport.closed) client(command.a).connection->peer_closed();
      break;
    case 'D': drop_client(command.a % kClients); break;
    case 'Q': client(command.a).transport.queued = command.b; break;
    case 'T': advance(command.a); break;
    case 'O':
    case 'S':
    case 'B':
    case 'X': server(command); break;
    case 'V': upstreams_.fail_next = true; break;
    case 'Z':  // as the worker does on SIGTERM
      endpoint_->refuse_new_sessions();
      table_->end_all(bosh::Condition::kSystemShutdown);
      break;
    default: break;  // unknown: a mutation; ignore it
  }
  settle();
  check_invariants();
}

// What the event loop does between two events: connections that read get their
// bytes, retired sessions are freed, closed sockets take their Connection with them.
void World::settle() {
  for (auto& slot : clients_) {
    Client& c = *slot;
    while (!c.transport.closed && !c.transport.paused && !c.inbox.empty()) {
      const std::string read = std::move(c.inbox.front());
      c.inbox.pop_front();
      trace("  >>", read);
      c.connection->feed(read);
    }
  }
  if (table_) table_->collect();
  for (std::size_t i = 0; i < kClients; ++i) {
    const CheckedTransport& transport = clients_[i]->transport;
    FUZZ_CHECK(!transport.final_written || transport.closed,
               "the connection wrote its last answer but did not close");
    FUZZ_CHECK(transport.closed == clients_[i]->connection->closed(),
               "transport closed and Connection::closed() disagree");
    if (transport.closed) drop_client(i);
  }
}

void World::check_invariants() {
  FUZZ_CHECK(table_->size() <= settings_.max_sessions,
             "more sessions than max_sessions: " + std::to_string(table_->size()));
  FUZZ_CHECK(table_->retired_count() == 0, "retired sessions survived collect()");
  for (const char* peer : kPeers) {
    FUZZ_CHECK(counts_.from(peer) <= settings_.max_sessions_per_ip,
               std::string("per-address cap exceeded for ") + peer);
  }
  for (std::uint32_t k = 0; k < sids_made(); ++k) {
    const bosh::Session* session = table_->find(fuzz_sid(k));
    if (session == nullptr) continue;
    // Held requests are bounded by the rid window (a dropped one may keep its place
    // for the client's resend, hence the slack); the queue of server bytes by the
    // setting (an ended session keeps its terminal body there instead).
    const std::size_t bound = 2 * std::size_t{session->params().requests()} + 1;
    FUZZ_CHECK(session->held_count() <= bound,
               "session " + std::to_string(k) + " holds " + std::to_string(session->held_count()) +
                   " requests, window " + std::to_string(session->params().requests()));
    if (session->state() != bosh::Session::State::kEnded) {
      FUZZ_CHECK(session->outbox_bytes() <= settings_.max_session_queue_bytes,
                 "session " + std::to_string(k) + " queues " +
                     std::to_string(session->outbox_bytes()) + " bytes");
    }
  }
  const std::uint64_t now = wheel_.now_ms();
  for (const auto& slot : clients_) {
    FUZZ_CHECK(slot->connection->in_flight() <= limits_.max_pipelined + 1,
               "in flight: " + std::to_string(slot->connection->in_flight()));
    for (const auto& tap : slot->taps.taps()) {
      if (tap->state() != TapExchange::State::kPending) continue;
      FUZZ_CHECK(now - tap->dispatched_ms() <= kMaxUnansweredMs,
                 "request seq " + std::to_string(tap->seq()) + " unanswered for " +
                     std::to_string(now - tap->dispatched_ms()) + " ms");
    }
  }
}

void World::finish() {
  finished_ = true;
  // Time runs out for every held request. Answers may let a paused connection parse
  // the requests it had queued, which are then held in turn: a few rounds.
  for (int round = 0; round < 8; ++round) {
    bool pending = false;
    for (const auto& slot : clients_) {
      for (const auto& tap : slot->taps.taps()) {
        pending = pending || tap->state() == TapExchange::State::kPending;
      }
    }
    if (!pending) break;
    advance(200'000);
    settle();
    check_invariants();
  }
  for (const auto& slot : clients_) {
    for (const auto& tap : slot->taps.taps()) {
      FUZZ_CHECK(tap->state() != TapExchange::State::kPending,
                 "request seq " + std::to_string(tap->seq()) + " never answered");
    }
  }

  // Shutdown as the worker does it: end every session, free them, then the sockets.
  endpoint_->refuse_new_sessions();
  table_->end_all(bosh::Condition::kSystemShutdown);
  settle();
  endpoint_.reset();
  table_.reset();  // frees live sessions; they answer what they still hold
  for (std::size_t i = 0; i < kClients; ++i) {
    clients_[i]->connection.reset();
    for (const auto& tap : clients_[i]->taps.taps()) {
      FUZZ_CHECK(
          tap->state() != TapExchange::State::kPending,
          "exchange neither answered nor lost at shutdown, seq " + std::to_string(tap->seq()));
    }
    clients_[i].reset();
  }
  FUZZ_CHECK(upstreams_.alive() == 0,
             std::to_string(upstreams_.alive()) + " upstream links outlived their sessions");
}

}  // namespace sb::fuzz
