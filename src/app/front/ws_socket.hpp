// WsSocket: one client connection speaking XMPP over WebSocket (RFC 7395), from the
// moment its "101 Switching Protocols" is written until the socket closes.
//
// It is the net::TcpStream's handler after the switch (HttpSocket hands the stream
// over and is freed) and the ws::WsOutput of the ws::WsSession it embeds: bytes read
// go to WsSession::feed(), frames the session writes go to the stream as two views
// (TcpStream::write_copy: nothing is copied unless the kernel leaves some behind).
// It owns itself and is freed when the stream has closed (on_closed), which is
// also where the session, and with it the upstream link, is destroyed.
//
// One timer node serves every deadline, one at a time:
//   kOpening    the client's first <open/> must come within http_header_timeout;
//   kKeepAlive  nothing heard for websocket_ping_interval: we send a ping;
//   kPong       nothing heard for websocket_pong_timeout after it: the client is
//               gone, the session ends ("no answer to ping");
//   kClosing    our close frame is out and the client's is due (5 s);
//   kLinger     the session closed the output: flush, half-close, drain (5 s).
// "Heard" is one bit set by every read and looked at when the node fires, so an
// active client costs no timer work per read.
//
// Memory: this object is what a WebSocket session costs besides its two TcpStreams
// and its UpstreamLink: the session (its frame parser holds no heap while idle), the
// timer node, the stream pointer, the per-address count key, a small id for the
// log. The client's address is the per-address key when the counts keep one
// (max_sessions_per_ip, upstream_proxy_protocol); otherwise it is the socket's
// peer, or, for a proxied client, an entry in WsShared::peers until the log has
// it. No list links: the worker finds its WebSocket sockets by walking the loop's
// handles (for_each), which it does only at shutdown. The shared state (WsShared)
// is the session's WsContext, reached through it rather than a pointer of our own.
#pragma once

#include <uv.h>

#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <unordered_map>

#include "app/front/front_events.hpp"
#include "base/object_pool.hpp"
#include "base/timer_wheel.hpp"
#include "engine/engine_events.hpp"
#include "engine/session_counts.hpp"
#include "net/tcp_stream.hpp"
#include "ws/ws_record.hpp"
#include "ws/ws_session.hpp"

namespace sb::app {

class WsSocket;

// Who hears of every change to a worker's WebSocket sessions (the keeper's
// watcher, app/keeper/session_keeper.hpp), as bosh::SessionWatcher hears of BOSH
// sessions. Both calls come from inside the loop; neither may free the socket.
class WsWatcher {
 public:
  // Bytes were read from the client or the server, or written to the client.
  virtual void ws_changed(WsSocket& socket) = 0;
  // The socket is about to be freed (it closed, or moved to another process).
  virtual void ws_freeing(WsSocket& socket) = 0;

 protected:
  ~WsWatcher() = default;
};

// What every WebSocket connection of a worker shares. It is the sessions'
// WsContext (factory, routing, limits), with the glue's own settings after it.
struct WsShared : ws::WsContext {
  engine::SessionCounts& counts;  // both transports' sessions, for the caps
  engine::EngineEvents* events;   // created / ended / refused, like BOSH's
  base::TimerWheel& wheel;
  std::string id_prefix;          // the worker's sid prefix, in log ids
  std::uint64_t open_timeout_ms;  // for the first <open/>
  std::uint64_t ping_interval_ms;
  std::uint64_t pong_timeout_ms;
  FrontEvents* counted = nullptr;  // sessions and messages counted; may be null
  WsWatcher* watcher = nullptr;    // hears of every change; may be null
  std::uint32_t next_id = 0;
  std::size_t live = 0;  // WsSockets alive now
  // The client's address of connections whose client is not the socket's peer
  // (a PROXY header or a trusted proxy's X-Forwarded-For named it) and that keep
  // no per-address key: held only until the session is announced in the log, so
  // an idle session pays nothing for it.
  std::unordered_map<const void*, std::string> peers{};
  // The frames of one read from the server, held until its end and written in one
  // go (WsSocket::hold_writes): one buffer for the worker, since one socket at a
  // time holds, so an idle session owns none of it.
  std::string held{};
  WsSocket* held_by = nullptr;  // whose frames `held` has, if any
};

class WsSocket final : public net::StreamHandler,
                       private ws::WsOutput,
                       public base::Pooled<WsSocket>,
                       private base::TimerNode {  // a base: no owner pointer in the node
 public:
  // Takes over `stream` (its 101 is already queued) and parses `first_bytes`, what
  // the client sent after its upgrade request. Counts the session, or, when the
  // client's address is at max_sessions_per_ip, lets its <open/> be refused.
  static void start(net::TcpStream& stream, WsShared& shared, std::string& first_bytes,
                    std::string_view peer);

  // Calls `f` with every WsSocket of `loop` (shutdown only: it walks all handles).
  static void for_each(uv_loop_t* loop, const std::function<void(WsSocket&)>& f);

  // --- moving to the next process (an upgrade in place, app/upgrade/) ---------
  // Whether it can move now: an open stream (WsSession::movable()), announced,
  // nothing queued for writing, not closing, plain TCP.
  bool movable() const;
  // The session's record with this socket's part (log id, client address).
  ws::WsRecord record() const;
  engine::Upstream* live_upstream() const { return session_.live_upstream(); }
  // The socket's descriptor, to send (SCM_RIGHTS gives the receiver its own), or -1.
  int socket_fd() const { return stream_.fd(); }
  // The duplicate went: the server link goes to the caller, this handle closes
  // without a word, and the session leaves the counts with no end event.
  std::unique_ptr<engine::Upstream> let_go();
  // A connection that moved here with its session, reading again; the server
  // link follows with resume(). Null, with the reason, when the record cannot
  // be taken up (the socket is closed then).
  static WsSocket* adopt_moved(net::TcpStream& stream, WsShared& shared, const ws::WsRecord& record,
                               std::string& error);
  void resume(std::unique_ptr<engine::Upstream> upstream);
  // What the server link's events go to (the session).
  engine::UpstreamEvents& upstream_events() { return session_; }
  // A stream was opened on it (a session, counted in session_created).
  bool session_created() const { return created_; }
  // wss:// (the HTTPS listener's TLS): it cannot move to another process.
  bool tls() const { return stream_.filtered(); }
  // The moved session's link could not be taken up: it ends as if the link failed.
  void link_lost();
  // Plain TCP, a stream open or opening, not closing: movable() once settled
  // (its server stream opened, what was queued written).
  bool keepable() const;
  // The watcher's marks (WsWatcher): named in this turn, and kept by it.
  bool watch_marked() const { return watch_marked_; }
  void set_watch_marked(bool on) { watch_marked_ = on; }
  bool watch_kept() const { return watch_kept_; }
  void set_watch_kept(bool on) { watch_kept_ = on; }

  // Drain: the session sends <close/> and close frame 1001.
  void shut_down() { session_.shutdown(); }
  // Closes the socket now.
  void close_now() { stream_.close(); }

 private:
  enum class Wait : std::uint8_t { kNone, kOpening, kKeepAlive, kPong, kClosing, kLinger };

  WsSocket(net::TcpStream& stream, WsShared& shared);
  ~WsSocket();

  WsShared& shared() const { return static_cast<WsShared&>(session_.context()); }
  void note_peer(std::string_view peer, bool count);
  void feed(char* data, std::size_t size);
  void announce_if_opened(ws::WsSession::State before);
  void lose(std::string_view reason);
  void arm(Wait wait, std::uint64_t delay_ms);
  void on_timeout();
  static void on_timer(base::TimerNode& node);

  // net::StreamHandler
  void on_read(net::TcpStream& stream, std::string_view bytes) override;
  void on_read_end(net::TcpStream& stream, int status) override;
  void on_write_error(net::TcpStream& stream, int status) override;
  void on_closed(net::TcpStream& stream) override;
  // ws::WsOutput
  void write(std::string_view header, std::string_view payload) override;
  void close() override;
  std::size_t queued_bytes() const override { return stream_.queued_bytes(); }
  void awaiting_close() override;
  void message_in() override;
  void message_out() override;
  void hold_writes() override { holding_ = true; }
  void release_writes() override { release_held(); }
  void upstream_read() override { changed(); }
  // Writes the frames held since hold_writes() (one write), or drops them when
  // `drop` (the socket is lost); either way holding ends.
  void release_held(bool drop = false);
  std::string_view client_address() const override;
  // Tells the watcher, if any, that this session changed.
  void changed() {
    if (WsWatcher* watcher = shared().watcher) watcher->ws_changed(*this);
  }
  // The client's address for the log (see client_address()).
  std::string log_address() const;

  net::TcpStream& stream_;
  ws::WsSession session_;
  const std::string* peer_key_ = nullptr;  // SessionCounts' per-address key, if counted so
  std::uint32_t id_;
  Wait wait_ = Wait::kNone;
  bool heard_ = false;      // a byte came since the node was last armed
  bool counted_ = false;    // in the worker's SessionCounts
  bool announced_ = false;  // session_created (or a refusal) was reported
  bool created_ = false;    // session_created was reported: session_ended is owed
  bool output_closed_ = false;
  bool peer_stored_ = false;  // its client's address is in WsShared::peers
  bool watch_marked_ = false;
  bool watch_kept_ = false;
  bool holding_ = false;  // frames go to WsShared::held until upstream_read()
};

}  // namespace sb::app
