// HttpSocket: one accepted TCP connection serving HTTP. It glues a net::TcpStream
// (bytes in and out) to an http::Connection (requests and ordered responses): it is
// the stream's handler and the connection's Transport.
//
// It owns itself: it is freed when the socket is closed (on_closed), which is the
// only moment the Connection can be destroyed with none of its frames on the stack.
// The worker keeps all live sockets on an intrusive list so it can close them at
// shutdown.
//
// It is also the Connection's Handler: it passes each request on to the worker's
// router, noting itself in Shared::dispatching meanwhile, so that code deep in a
// handler (the hand-over of a request for another worker's session, see
// handover.hpp) can tell which socket the request came on. A socket being handed
// over is inert (reads stopped, writes and closes ignored) until the IPC send
// completes; then only this process's handle is closed, and the connection lives
// on in the process that received it.
//
// After "101 Switching Protocols" (Transport::switch_protocols) the stream goes to
// the worker's UpgradeTarget (the WebSocket glue, ws_socket.hpp), which becomes the
// stream's handler, with the client's address as the upgrade request had it. This
// object and its Connection are then retired: off the live list at once, freed by
// HttpSocketList::collect() from the worker's check handle, outside the
// Connection's frames that are still on the stack at the switch.
//
// The client's address. With `proxy_protocol` on, a connection's first bytes are
// a PROXY protocol header (net/proxy_protocol.hpp), read here before HTTP sees a
// byte; the address it names becomes the connection's peer, and a connection
// whose header is missing or malformed is closed at once. The wait for it is
// bounded by the connection's header timeout, its size by the reader. With
// `trusted_proxies`, a request from a trusted peer that carries X-Forwarded-For
// or Forwarded gets the client those name (client_address.hpp) as its peer. A
// connection handed over to another worker takes its peer along (handover.hpp).
#pragma once

#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

#include "app/front/client_address.hpp"
#include "app/front/front_events.hpp"
#include "base/object_pool.hpp"
#include "base/timer_wheel.hpp"
#include "http/connection.hpp"
#include "http/transport.hpp"
#include "net/proxy_protocol.hpp"
#include "net/tcp_stream.hpp"

namespace sb::app {

class HttpSocketList;

// Where a socket goes after its 101: it takes over the stream (sets itself as the
// handler) and first parses `first_bytes`, what the client sent after the request.
class UpgradeTarget {
 public:
  virtual void take_over(net::TcpStream& stream, std::string& first_bytes,
                         std::string_view peer) = 0;

 protected:
  ~UpgradeTarget() = default;
};

class HttpSocket final : private net::StreamHandler,
                         private http::Transport,
                         private http::Handler,
                         public base::Pooled<HttpSocket> {
 public:
  struct Shared {  // what all sockets of a worker use
    http::Handler& handler;
    const http::ConnectionLimits& limits;
    const http::CorsPolicy& cors;
    base::TimerWheel& wheel;
    HttpSocketList& list;
    HttpSocket* dispatching = nullptr;        // the socket whose request is being handled
    UpgradeTarget* upgrades = nullptr;        // null: a 101 just closes the socket
    FrontEvents* events = nullptr;            // connections and responses counted; may be null
    bool proxy_protocol = false;              // connections start with a PROXY header
    const TrustedProxies* trusted = nullptr;  // whose forwarding headers count; may be null
    // The PROXY headers being read, by socket: a reader exists only for the first
    // moments of a connection, so it is kept here rather than in every socket.
    std::unordered_map<const HttpSocket*, std::unique_ptr<net::ProxyHeaderReader>> proxy_readers{};
    // The client a trusted proxy named (X-Forwarded-For, Forwarded) in an upgrade
    // request, kept from the request until its 101 hands the stream over: the
    // WebSocket connection belongs to that client, not to the proxy.
    std::unordered_map<const HttpSocket*, std::string> upgrade_peers{};
  };
  // Takes over an accepted stream and starts reading. `first_bytes` (a request
  // handed over by another worker) are parsed before anything read from the socket;
  // `peer` (the client address the handing worker had) replaces the socket's own,
  // and no PROXY header is expected then: the first worker read it.
  // `tls_relayed`: the stream is a TLS relay's far end (tls_relay.hpp), so its
  // client speaks https even though the bytes arrive in clear (host-meta's URLs).
  static void adopt(net::TcpStream& stream, Shared& shared, std::string_view first_bytes = {},
                    std::string_view peer = {}, bool tls_relayed = false);
  // Closes the socket now (shutdown). Ignored while the socket is being handed over.
  void close_now();

  // --- hand-over to another worker process (handover.hpp) ---------------------
  // Inside the handling of a request: whether this socket may leave with that
  // request alone (nothing else in flight, read or waiting to be written).
  bool can_hand_over() const;
  bool current_request_http10() const { return connection_.current_request_http10(); }
  // The connection's client address (the PROXY header's, or the socket's).
  const std::string& connection_peer() const { return connection_.peer(); }
  // Stops reading and makes the socket inert; returns the stream to send.
  net::TcpStream& begin_handover();
  // The send completed or failed: closes this process's handle of the socket.
  void end_handover();
  // Whether the connection is TLS (the HTTPS listener's): it cannot move to
  // another process, its plaintext is relayed instead (tls_relay.hpp).
  bool tls() const { return stream_.filtered(); }
  // The far end of a TLS relay: the client's TLS lives in another worker.
  bool tls_relayed() const { return tls_relayed_; }
  // For the relay: the socket is retired (as after a 101) and inert, and its
  // stream, still reading, is returned to get a new handler.
  net::TcpStream& begin_relay();

  // --- moving to the next process (an upgrade in place, app/upgrade/) ---------
  // Whether the socket can move now: plain TCP (no TLS, not a relay), its PROXY
  // header read, nothing queued for writing, not closing, and its connection
  // between two requests' bytes (http::Connection::movable()).
  bool movable() const;
  // Why not movable(), in a few words; empty when it is.
  std::string_view why_not_movable() const;
  http::ConnectionRecord record() const { return connection_.record(); }
  std::vector<http::Exchange*> waiting_exchanges() { return connection_.waiting_exchanges(); }
  std::size_t requests_in_flight() const { return connection_.in_flight(); }
  // The socket's descriptor, to send (SCM_RIGHTS gives the receiver its own), or -1.
  int socket_fd() const { return stream_.fd(); }
  // The duplicate went: this process's handle closes without a word to the
  // client, and the socket is freed. The requests in flight are forgotten here.
  void let_go();
  // A socket that moved here, with the requests that were in flight on it
  // (`record`); their exchanges, oldest first, go to `exchanges`. `cors` is the
  // worker's policy (the decisions are admitted again). Starts reading.
  static HttpSocket* adopt_moved(net::TcpStream& stream, Shared& shared,
                                 const http::ConnectionRecord& record, http::CorsPolicy& cors,
                                 std::vector<http::Exchange*>& exchanges);

  HttpSocket* prev = nullptr;  // HttpSocketList links
  HttpSocket* next = nullptr;

 private:
  friend class HttpSocketList;  // frees retired sockets
  HttpSocket(net::TcpStream& stream, Shared& shared);
  ~HttpSocket();

  // net::StreamHandler
  void on_read(net::TcpStream& stream, std::string_view bytes) override;
  void on_read_end(net::TcpStream& stream, int status) override;
  void on_write_error(net::TcpStream& stream, int status) override;
  void on_closed(net::TcpStream& stream) override;
  // http::Handler
  void handle(http::Request& request, http::Exchange& exchange) override;
  // http::Transport
  void write(std::string head, std::shared_ptr<const std::string> body) override;
  void close() override;
  void pause_reading() override;
  void resume_reading() override;
  std::size_t queued_bytes() const override;
  void linger_expired() override;
  void switch_protocols(std::string head, std::string& first_bytes) override;

  net::TcpStream& stream_;
  Shared& shared_;
  // Embedded: one allocation per accepted socket. Its timer node also bounds our
  // lingering close (Connection::linger), so the socket has no node of its own.
  http::Connection connection_;
  bool lingering_ = false;    // closing: answers flushed, then FIN, then wait for EOF
  bool tls_relayed_ = false;  // a TLS relay's far end: the client uses https
  bool handing_over_ = false;
  bool switched_ = false;           // the stream went to the UpgradeTarget; retired
  bool awaiting_proxy_ = false;     // its reader is in Shared::proxy_readers
  bool forwarded_upgrade_ = false;  // its upgrade's client is in Shared::upgrade_peers
};

// The live sockets of a worker.
class HttpSocketList {
 public:
  void insert(HttpSocket& socket);
  void remove(HttpSocket& socket);
  void close_all();
  // Closes the sockets with no request in flight (after an upgrade in place:
  // a request read here now could name a session that moved).
  void close_idle();
  std::size_t size() const { return size_; }
  // The first live socket; the rest follow through `next`.
  HttpSocket* first() const { return head_; }
  // A socket whose stream switched protocols: off the list, freed by collect().
  void retire(HttpSocket& socket);
  // Frees retired sockets. Call where no socket's frame is on the stack.
  void collect();

 private:
  HttpSocket* head_ = nullptr;
  HttpSocket* retired_ = nullptr;  // chained through `next`
  std::size_t size_ = 0;
};

}  // namespace sb::app
