// WsSocket: the WebSocket connection's socket glue and deadlines; see ws_socket.hpp.
#include "app/front/ws_socket.hpp"

#include <vector>

#include "ws/frame_writer.hpp"

namespace sb::app {
namespace {
// How long our close frame waits for the client's, and a closed output for its flush.
constexpr std::uint64_t kClosingMs = 5000;
constexpr std::uint64_t kLingerMs = 5000;

using State = ws::WsSession::State;

bool streaming(State state) {
  return state == State::kUpstreamOpening || state == State::kOpen || state == State::kRestarting;
}
}  // namespace

void WsSocket::start(net::TcpStream& stream, WsShared& shared, std::string& first_bytes,
                     std::string_view peer) {
  auto* socket = new WsSocket(stream, shared);  // owns itself until on_closed()
  // Over the address's cap, the <open/> gets policy-violation, as a BOSH
  // creation would. Such a connection holds no stream and is not counted.
  const bool over_cap = shared.counts.full_for(peer);
  if (over_cap) socket->session_.refuse_streams();
  socket->note_peer(peer, !over_cap);
  socket->arm(Wait::kOpening, shared.open_timeout_ms);
  if (stream.start_reading() != 0) {
    socket->lose("client connection lost");
    return;
  }
  if (!first_bytes.empty()) socket->feed(first_bytes.data(), first_bytes.size());
}

WsSocket::WsSocket(net::TcpStream& stream, WsShared& shared)
    : base::TimerNode(&WsSocket::on_timer),
      stream_(stream),
      session_(shared, static_cast<ws::WsOutput&>(*this)),
      id_(++shared.next_id) {
  stream_.set_handler(this);
  ++shared.live;
}

WsSocket::~WsSocket() = default;

void WsSocket::for_each(uv_loop_t* loop, const std::function<void(WsSocket&)>& f) {
  // Collected first: `f` may close handles and start writes, which must not
  // happen while libuv walks its handle queue.
  std::vector<WsSocket*> sockets;
  uv_walk(
      loop,
      [](uv_handle_t* handle, void* arg) {
        if (handle->type != UV_TCP || uv_is_closing(handle) != 0) return;
        net::StreamHandler* handler = net::TcpStream::of_handle(handle)->handler();
        if (auto* socket = dynamic_cast<WsSocket*>(handler)) {
          static_cast<std::vector<WsSocket*>*>(arg)->push_back(socket);
        }
      },
      &sockets);
  for (WsSocket* socket : sockets) f(*socket);
}

bool WsSocket::movable() const {
  return session_.movable() && created_ && !output_closed_ && !stream_.closing() &&
         !stream_.filtered() && stream_.queued_bytes() == 0;
}

bool WsSocket::keepable() const {
  return created_ && streaming(session_.state()) && !output_closed_ && !stream_.closing() &&
         !stream_.filtered();
}

ws::WsRecord WsSocket::record() const {
  ws::WsRecord record;
  session_.record(record);
  record.id = id_;
  record.peer = log_address();
  return record;
}

std::unique_ptr<engine::Upstream> WsSocket::let_go() {
  std::unique_ptr<engine::Upstream> link = session_.move_out();
  created_ = false;  // it did not end: no session_ended
  output_closed_ = true;
  base::TimerWheel::disarm(timer());
  wait_ = Wait::kNone;
  stream_.stop_reading();
  // Closing this descriptor sends nothing: the one sent keeps the connection.
  stream_.close();
  return link;
}

WsSocket* WsSocket::adopt_moved(net::TcpStream& stream, WsShared& shared,
                                const ws::WsRecord& record, std::string& error) {
  auto* socket = new WsSocket(stream, shared);  // owns itself until on_closed()
  socket->id_ = record.id;
  if (shared.next_id < record.id) shared.next_id = record.id;
  socket->note_peer(record.peer, true);
  socket->announced_ = true;
  if (!socket->session_.take_up(record, error)) {
    socket->output_closed_ = true;
    stream.close();
    return nullptr;
  }
  socket->created_ = true;
  socket->arm(Wait::kKeepAlive, shared.ping_interval_ms);
  if (stream.start_reading() != 0) {
    socket->lose("client connection lost");
    return socket;
  }
  return socket;
}

void WsSocket::resume(std::unique_ptr<engine::Upstream> upstream) {
  session_.resume(std::move(upstream));
  changed();
}

void WsSocket::link_lost() {
  session_.upstream_closed(engine::UpstreamEnd::kFailed,
                           "the server link did not survive the move");
}

// Counts the session under its client's address (`count`: not over the cap),
// and keeps the address aside when the count keeps no key for it and the
// socket's own peer is someone else (a proxy).
void WsSocket::note_peer(std::string_view peer, bool count) {
  if (count) {
    peer_key_ = shared().counts.add(peer);
    counted_ = true;
  }
  if (peer_key_ == nullptr && peer != stream_.peer_ip()) {
    shared().peers[this] = std::string(peer);
    peer_stored_ = true;
  }
}

void WsSocket::feed(char* data, std::size_t size) {
  heard_ = true;
  if (output_closed_) return;  // closing: what still comes is dropped
  session_.feed(data, size);
  if (!announced_ && session_.state() != State::kAwaitingOpen) {
    announced_ = true;
    const std::string id = shared().id_prefix + "ws" + std::to_string(id_);
    const std::string peer = log_address();
    if (peer_stored_) {  // the log was what it was kept for
      shared().peers.erase(this);
      peer_stored_ = false;
    }
    if (streaming(session_.state())) {
      created_ = true;
      if (shared().counted != nullptr) shared().counted->ws_session_created();
      if (shared().events != nullptr) shared().events->session_created(id, peer, session_.to());
      arm(Wait::kKeepAlive, shared().ping_interval_ms);
    } else if (shared().events != nullptr) {
      // The first message was refused (no route, a bad frame, over a cap): as for
      // BOSH, a refused request rather than a session.
      shared().events->request_refused(
          peer, counted_ ? engine::Refusal::kWsOpen : engine::Refusal::kPerAddressCap,
          session_.end_reason());
    }
  }
}

void WsSocket::lose(std::string_view reason) {
  release_held(true);
  session_.connection_lost(reason);
  stream_.close();
}

void WsSocket::arm(Wait wait, std::uint64_t delay_ms) {
  wait_ = wait;
  heard_ = false;
  shared().wheel.arm(timer(), delay_ms);
}

void WsSocket::on_timer(base::TimerNode& node) { static_cast<WsSocket&>(node).on_timeout(); }

void WsSocket::on_timeout() {
  const Wait wait = wait_;
  wait_ = Wait::kNone;
  switch (wait) {
    case Wait::kOpening:
      // Only a connection still waiting for its <open/>; the others set their own.
      if (session_.state() == State::kAwaitingOpen) lose("no <open/> in time");
      break;
    case Wait::kKeepAlive:
      if (!streaming(session_.state())) break;
      if (heard_) {
        arm(Wait::kKeepAlive, shared().ping_interval_ms);
        break;
      }
      release_held();  // never holding here (a timer, not a read); order kept anyway
      stream_.write(ws::ping_frame({}));
      changed();
      arm(Wait::kPong, shared().pong_timeout_ms);
      break;
    case Wait::kPong:
      if (!streaming(session_.state())) break;
      if (heard_) {
        arm(Wait::kKeepAlive, shared().ping_interval_ms);
      } else {
        lose("no answer to ping");
      }
      break;
    case Wait::kClosing: lose("no close frame from the client"); break;
    case Wait::kLinger: stream_.close(); break;
    case Wait::kNone: break;
  }
}

void WsSocket::on_read(net::TcpStream&, std::string_view bytes) {
  // The view is into the loop's shared read buffer, which is ours to change until
  // we return: frames are unmasked in place there.
  feed(const_cast<char*>(bytes.data()), bytes.size());
  changed();
}

void WsSocket::on_read_end(net::TcpStream&, int) {
  if (output_closed_) {
    stream_.close();  // the client closed after our close: done
    return;
  }
  lose("client connection lost");
}

void WsSocket::on_write_error(net::TcpStream&, int) { lose("client connection lost"); }

void WsSocket::on_closed(net::TcpStream&) {
  session_.connection_lost("client connection lost");  // no-op once the session closed
  WsShared& shared = this->shared();
  if (created_ && shared.events != nullptr) {
    shared.events->session_ended(shared.id_prefix + "ws" + std::to_string(id_),
                                 engine::Condition::kNone, session_.end_reason());
  }
  if (counted_) shared.counts.remove(peer_key_);
  if (peer_stored_) shared.peers.erase(this);
  --shared.live;
  release_held(true);
  if (shared.watcher != nullptr) shared.watcher->ws_freeing(*this);
  delete this;
}

void WsSocket::write(std::string_view header, std::string_view payload) {
  if (holding_) {
    WsShared& shared = this->shared();
    // One socket holds at a time (a read from one server link is delivered whole
    // before the next starts); should another still hold, its frames go first.
    if (shared.held_by != this && shared.held_by != nullptr) shared.held_by->release_held();
    shared.held_by = this;
    shared.held.append(header).append(payload);
  } else {
    stream_.write_copy(header, payload);
  }
  changed();
}

void WsSocket::release_held(bool drop) {
  holding_ = false;
  WsShared& shared = this->shared();
  if (shared.held_by != this) return;
  shared.held_by = nullptr;
  if (!drop) stream_.write_copy(shared.held, {});
  shared.held.clear();  // keeps its capacity: the next read's frames reuse it
}

// The session is done with the socket: flush what it wrote, half-close, and read
// (discarding) until the client closes too, for at most kLingerMs.
void WsSocket::close() {
  release_held();  // the session's last frames (its close frame) go out first
  output_closed_ = true;
  stream_.shutdown_after_writes();
  if (!stream_.reading() && !stream_.closing()) stream_.start_reading();
  arm(Wait::kLinger, kLingerMs);
}

void WsSocket::awaiting_close() { arm(Wait::kClosing, kClosingMs); }

void WsSocket::message_in() {
  if (shared().counted != nullptr) shared().counted->ws_message(true);
}

void WsSocket::message_out() {
  if (shared().counted != nullptr) shared().counted->ws_message(false);
}

std::string_view WsSocket::client_address() const {
  if (peer_key_ != nullptr) return *peer_key_;
  if (peer_stored_) {
    if (auto entry = shared().peers.find(this); entry != shared().peers.end()) return entry->second;
  }
  return {};  // kept nowhere: upstream_proxy_protocol keeps a key for every session
}

std::string WsSocket::log_address() const {
  const std::string_view kept = client_address();
  return kept.empty() ? stream_.peer_ip() : std::string(kept);
}

}  // namespace sb::app
