// Connection: one HTTP/1.1 server connection, from raw bytes to ordered responses.
//
// The connection parses requests out of the bytes it is fed (RequestParser, on
// llhttp), hands each complete request to the Handler with an Exchange to answer
// through, and writes the answers strictly in request order (HTTP/1.1 pipelining):
// an answer that comes early waits, serialized, until the ones before it are sent.
// It enforces the ConnectionLimits and answers refused requests itself (400, 408,
// 413, 414, 417, 431, 501, 505), after the answers it owes, then closes.
//
// It is socket-agnostic: bytes come in through feed() and go out through a
// Transport, so tests drive it with a fake and no sockets.
//
// Memory (a million of these must fit): between requests a connection holds the
// llhttp state, a timer node and a few pointers; no read buffer (feed() bytes live
// in the loop's shared buffer and are parsed in place). Per-request state is
// allocated at a request's first byte; an Exchange slot exists only while its
// request is in flight; unparsed bytes are copied out only when parsing is paused
// because too many requests are in flight.
//
// Upgrades. An upgrade request (Upgrade + "Connection: upgrade") on a path with a
// RequestHead is the last HTTP request of the connection: parsing stops and bytes
// read after it are kept for the next protocol. If its handler accepts
// (Exchange::switch_protocols), the raw 101 head is written once every earlier
// answer is out, and Transport::switch_protocols() takes the socket and those bytes;
// the Connection is inert from then on (closed() is true) and the owner frees it.
// Any other answer closes the connection after it, as for a "Connection: close".
//
// Lifetime and ownership. The owner (the socket adapter) owns the Connection. The
// Connection never destroys itself: when it is done it calls Transport::close() and
// becomes inert. The owner destroys it once the socket is really closed, which for
// TcpStream is the asynchronous on_closed(), so no Connection frame is ever on the
// stack at that point. When the socket ends first (EOF, error) the owner calls
// peer_closed(). In both cases every request still unanswered is reported to its
// ExchangeWatcher (exchange_lost) before its Exchange is freed. Handlers may answer
// from inside Handler::handle() and watchers may call send() on other exchanges of
// the same connection from inside exchange_lost(); both are safe. Destroying the
// Connection also reports unanswered exchanges, without touching the transport.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "base/timer_wheel.hpp"
#include "http/connection_record.hpp"
#include "http/cors.hpp"
#include "http/exchange.hpp"
#include "http/limits.hpp"
#include "http/request_parser.hpp"
#include "http/transport.hpp"

namespace sb::http {

// The connection is its own timer node (a base: no owner pointer in the node).
class Connection : private base::TimerNode {
 public:
  Connection(Transport& transport, Handler& handler, const ConnectionLimits& limits,
             const CorsPolicy& cors, base::TimerWheel& wheel, std::string peer_ip);
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;
  ~Connection();

  // Bytes just read. They are parsed in place; only what cannot be parsed now
  // (parsing paused) is copied.
  void feed(std::string_view bytes);
  // The socket reached EOF or failed: unanswered requests are lost.
  void peer_closed();

  // True once the connection has called Transport::close().
  bool closed() const { return phase_ == Phase::kClosed; }
  // After Transport::close(): the transport's lingering close (flush, half-close,
  // drain) is bounded by the connection's own timer node, idle by then, so the
  // socket needs no node of its own. Transport::linger_expired() is called after
  // `delay_ms` unless cancel_linger() came first.
  void linger(std::uint64_t delay_ms);
  void cancel_linger();

  // The client's address as requests report it (Request::peer). The owner may
  // replace the socket's own peer with the one a PROXY protocol header named,
  // before the first request.
  const std::string& peer() const { return peer_ip_; }
  void set_peer(std::string ip) { peer_ip_ = std::move(ip); }

  // Requests dispatched or refused whose answer has not been written yet.
  std::size_t in_flight() const { return in_flight_; }

  // --- hand-over to another process (app/handover.hpp) ---------------------
  // Meaningful only inside Handler::handle(). True when the request being handled
  // is all this connection holds: no other request in flight, no byte read past
  // it, parsing not paused. Only then may the socket move to another process
  // together with that one request.
  bool holds_only_current_request() const {
    return phase_ != Phase::kClosed && in_flight_ == 1 && !bytes_after_current_ && !paused_ &&
           leftover_ == nullptr;
  }
  // Inside Handler::handle(): the request being handled was HTTP/1.0.
  bool current_request_http10() const { return current_http10_; }

  // --- moving to another process (an upgrade in place, connection_record.hpp) --
  // True when the connection can leave now: open, parsing (not paused), between
  // two requests' bytes, and every request in flight still waiting for its
  // answer (none answered but unwritten, no 100-continue owed, no upgrade). The
  // transport's own queue must be empty too; its owner checks that.
  bool movable() const;
  // Why not movable(), in a few words ("half read", "answered", ...); empty when it is.
  std::string_view why_not_movable() const;
  // The client's address and the requests in flight, oldest first; and their
  // exchanges, in the same order (for whoever answers them to let go of them).
  ConnectionRecord record() const;
  std::vector<Exchange*> waiting_exchanges();
  // On a connection just made for a socket that moved here: the requests that
  // were in flight on it, waiting again, oldest first. Their exchanges come back
  // in that order, for the handlers that held them to take up (BOSH's
  // Session::resume). `cors` admits each request's decision again.
  std::vector<Exchange*> adopt_in_flight(const ConnectionRecord& record, CorsPolicy& cors);
  // The socket moved: nothing more is parsed, written or reported. The exchanges
  // are forgotten without telling their watchers (they moved with the socket).
  void let_go();

 private:
  class Slot;
  enum class Phase : std::uint8_t {
    kOpen,       // parsing requests
    kUpgrading,  // an upgrade request is the last; bytes after it are kept for the switch
    kDraining,   // no more requests; close after the answers still owed
    kClosed,     // transport closed; inert
  };
  enum class TimerPurpose : std::uint8_t { kNone, kIdle, kHeader, kBody, kResume, kLinger };

  void parse(std::string_view data);
  void dispatch(std::string_view rest);
  void append_slot(std::unique_ptr<Slot> slot);
  void refuse(int status);
  void send(Slot& slot, Response response);
  void switch_protocols(Slot& slot, std::string head);
  void hand_over_socket(std::string head);
  void flush();
  void stop_parsing();
  void close_now();
  void lose_exchanges();
  void pause_parsing(std::string_view rest);
  void resume_parsing();
  void write_continue();
  bool backlog_too_big() const;
  void arm_timer(TimerPurpose purpose, std::uint64_t delay_ms);
  void settle_timer();
  void on_timeout();
  static void on_timer(base::TimerNode& node);

  RequestParser parser_;
  Transport& transport_;
  Handler& handler_;
  const CorsPolicy& cors_;
  base::TimerWheel& wheel_;
  std::string peer_ip_;
  std::unique_ptr<Slot> head_;  // the oldest request in flight; slots chain by `next`
  Slot* tail_ = nullptr;
  std::unique_ptr<std::string> leftover_;  // unparsed bytes while paused
  std::uint16_t in_flight_ = 0;
  Phase phase_ = Phase::kOpen;
  TimerPurpose timer_purpose_ = TimerPurpose::kNone;
  bool paused_ = false;               // too many requests in flight: not parsing
  bool continue_owed_ = false;        // "100 Continue" to send once earlier answers are out
  bool bytes_after_current_ = false;  // hand-over: bytes follow the request dispatched
  bool current_http10_ = false;       // hand-over: the request dispatched is HTTP/1.0
};

}  // namespace sb::http
