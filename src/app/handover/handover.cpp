// A worker's end of the hand-over: sending a connection to its owner, adopting
// the ones sent here. See handover.hpp.
#include "app/handover/handover.hpp"

#include "app/handover/tls_relay.hpp"

#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <utility>
#include <vector>

#include "app/handover/sid_owner.hpp"
#include "app/log/log.hpp"
#include "net/loop_context.hpp"

namespace sb::app {

// One socket on its way out: the frame bytes and the socket stay alive until
// libuv's write callback, which is when the socket's handle may be closed here.
struct Handover::Outgoing {
  uv_write_t req{};
  std::string frame;
  HttpSocket* socket = nullptr;      // a plain connection leaving, or
  net::TcpStream* stream = nullptr;  // the far end of a TLS relay's socketpair
};

Handover::Handover(uv_loop_t* loop, Identity identity, HttpSocket::Shared& sockets, AdoptFn adopt,
                   LostFn lost)
    : loop_(loop),
      identity_(std::move(identity)),
      sockets_(sockets),
      adopt_(std::move(adopt)),
      lost_(std::move(lost)) {}

Handover::~Handover() = default;

int Handover::open(int fd, std::string& error) {
  uv_pipe_init(loop_, &pipe_, 1);  // ipc: sockets may travel on it
  pipe_.data = this;
  state_ = State::kOpen;
  int rc = uv_pipe_open(&pipe_, fd);
  if (rc == 0) {
    reader_ = new net::IpcReader(loop_);
    rc = reader_->start(
        fd, [this](net::IpcReader::Chunk& chunk) { return on_chunk(chunk); },
        [this](int status) {
          lose(status == 0 ? "the supervisor closed the IPC pipe" : uv_strerror(status));
        });
  }
  if (rc != 0) {
    error = "IPC pipe on fd " + std::to_string(fd) + ": " + uv_strerror(rc);
    close();
  }
  return rc;
}

void Handover::close() {
  if (state_ != State::kOpen) return;
  state_ = State::kClosed;
  if (reader_ != nullptr) reader_->close_and_delete();
  reader_ = nullptr;
  // libuv fails the writes still queued (UV_ECANCELED) before the pipe is closed;
  // on_sent then closes their sockets.
  uv_close(reinterpret_cast<uv_handle_t*>(&pipe_), nullptr);
  for (const Arrival& arrival : inbox_.take_all()) {
    if (arrival.stream != nullptr) arrival.stream->close();
  }
}

bool Handover::route(std::string_view sid, http::Request& request, http::Exchange& exchange) {
  auto owner = sid_owner_worker(sid, identity_.node_id);
  if (!owner) return false;
  // A sid of a worker index this daemon does not have (a crashed daemon ran more
  // workers) goes where that index's journal was read (keeper/journal.hpp), which
  // knows whether the session existed (remote-connection-failed, not
  // item-not-found).
  if (*owner >= identity_.workers && identity_.workers > 0) *owner %= identity_.workers;
  if (*owner == identity_.self) return false;
  if (!move(*owner, request, true)) {
    // Only a connection with nothing else on it can move; a client that pipelines
    // requests of several sessions on one connection is asked to retry.
    ++counters_.busy;
    SB_LOG_DEBUG("request for worker %u's session on a busy connection from %s: 503", *owner,
                 request.peer.c_str());
    exchange.send(http::Response::unavailable(
        "this connection is busy: send the request for this session on another connection\n", 0));
  }
  return true;
}

bool Handover::pass_on(std::uint32_t target, http::Request& request) {
  // A session creation is passed on only with its own connection: relayed, the
  // receiver would not see the client's address for max_sessions_per_ip.
  return move(target, request, false);
}

bool Handover::move(std::uint32_t target, http::Request& request, bool relay_tls) {
  if (target == identity_.self || target >= identity_.workers) return false;
  HttpSocket* socket = sockets_.dispatching;
  std::optional<std::string> bytes;
  if (state_ == State::kOpen && socket != nullptr && socket->can_hand_over()) {
    bytes = serialize_request(request, socket->current_request_http10());
  }
  if (!bytes) return false;
  if (!socket->tls()) {
    send(target, socket, socket->begin_handover(), std::move(*bytes), socket->connection_peer());
    return true;
  }
  if (!relay_tls) return false;
  const std::string peer = socket->connection_peer();  // copied before the relay takes over
  std::string error;
  net::TcpStream* far = TlsRelay::start(loop_, *socket, error);
  if (far == nullptr) {
    SB_LOG_WARN("cannot relay a TLS connection to worker %u: %s", target, error.c_str());
    return false;
  }
  ++counters_.relayed;
  SB_LOG_DEBUG("TLS connection from %s relayed to worker %u", request.peer.c_str(), target);
  send(target, nullptr, *far, std::move(*bytes), peer);
  return true;
}

void Handover::send(std::uint32_t target, HttpSocket* socket, net::TcpStream& stream,
                    std::string request_bytes, std::string_view client_address) {
  auto* out = new Outgoing;
  // The connection's client address travels along: a PROXY header or a trusted
  // proxy may have named it, and the receiver cannot read that off the socket.
  out->frame = encode_frame(target, request_bytes, client_address);
  out->socket = socket;
  out->stream = &stream;
  out->req.data = out;
  uv_buf_t buf = uv_buf_init(out->frame.data(), static_cast<unsigned int>(out->frame.size()));
  const int rc = uv_write2(&out->req, reinterpret_cast<uv_stream_t*>(&pipe_), &buf, 1,
                           stream.stream(), &Handover::on_sent);
  if (rc != 0) {
    SB_LOG_WARN("hand-over to worker %u failed: %s", target, uv_strerror(rc));
    if (socket != nullptr) {
      socket->end_handover();
    } else {
      stream.close();
    }
    delete out;
    return;
  }
  ++counters_.handed_over;
  if (log_enabled(LogLevel::kDebug)) {
    // The peer's port too: bench/handover.js tells its handed-over requests by it.
    sockaddr_storage peer{};
    int length = sizeof peer;
    char name[64] = "?";
    int port = 0;
    if (uv_tcp_getpeername(stream.handle(), reinterpret_cast<sockaddr*>(&peer), &length) == 0) {
      if (peer.ss_family == AF_INET6) {
        const auto* v6 = reinterpret_cast<const sockaddr_in6*>(&peer);
        uv_ip6_name(v6, name, sizeof name);
        port = ntohs(v6->sin6_port);
      } else if (peer.ss_family == AF_INET) {  // not a relay's socketpair
        const auto* v4 = reinterpret_cast<const sockaddr_in*>(&peer);
        uv_ip4_name(v4, name, sizeof name);
        port = ntohs(v4->sin_port);
      }
    }
    SB_LOG_DEBUG("connection handed over to worker %u (from %s port %d)", target, name, port);
  }
}

void Handover::on_sent(uv_write_t* req, int status) {
  auto* out = static_cast<Outgoing*>(req->data);
  if (status != 0 && status != UV_ECANCELED) {
    SB_LOG_WARN("hand-over send failed: %s; connection dropped", uv_strerror(status));
  }
  // Sent or not, this process is done with the socket: the receiver has its own
  // descriptor, or the connection is lost and the client will retry.
  if (out->socket != nullptr) {
    out->socket->end_handover();
  } else {
    out->stream->close();
  }
  delete out;
}

bool Handover::on_chunk(net::IpcReader::Chunk& chunk) {
  std::vector<Arrival> sockets;
  for (const int fd : chunk.fds) sockets.push_back(take_socket(fd));
  if (chunk.truncated) {
    // At the file limit: the kernel closed the socket instead of giving it to us.
    // Its frame finds no socket below, and only that request is lost.
    SB_LOG_WARN("a handed-over socket was lost on the way (this worker is at its file limit)");
  }
  std::vector<HandoverFrame> frames;
  if (inbox_.take(chunk.bytes, sockets, frames) != 0) {
    SB_LOG_ERROR("corrupt bytes on the IPC pipe; skipped to the next frame");
  }
  for (HandoverFrame& frame : frames) {
    if (frame.target == kControlTarget) {  // no socket comes with it
      if (control_) control_(parse_control(frame.request));
      if (state_ != State::kOpen) return false;
      continue;
    }
    std::vector<Arrival> orphans;
    const std::optional<Arrival> arrival = inbox_.claim(frame, orphans);
    for (const Arrival& orphan : orphans) {
      ++counters_.lost;
      SB_LOG_WARN("a handed-over socket came without its frame; closed");
      if (orphan.stream != nullptr) orphan.stream->close();
    }
    if (!arrival) {
      ++counters_.lost;
      SB_LOG_WARN("a hand-over frame came without its socket; that request is dropped");
      continue;
    }
    if (arrival->stream == nullptr) continue;  // a socket we could not take
    if (frame.target == kUpgradeGateTarget) {
      // Not a client's: the descriptor leaves the stream for the gate's handler.
      uv_os_fd_t fd = -1;
      const int own = uv_fileno(reinterpret_cast<uv_handle_t*>(arrival->stream->handle()), &fd) == 0
                          ? ::dup(fd)
                          : -1;
      arrival->stream->close();
      if (own >= 0 && gate_) {
        gate_(own);
      } else if (own >= 0) {
        ::close(own);
      }
      if (state_ != State::kOpen) return false;
      continue;
    }
    ++counters_.adopted;
    SB_LOG_DEBUG("connection adopted from another worker (%zu bytes of request)",
                 frame.request.size());
    adopt_(*arrival->stream, frame.request, frame.peer, arrival->tls_relayed);
    if (state_ != State::kOpen) return false;
  }
  return true;
}

void Handover::send_control(std::string_view kind, std::string_view body) {
  if (state_ != State::kOpen) return;
  const int rc = write_control(reinterpret_cast<uv_stream_t*>(&pipe_), kind, body);
  if (rc != 0) {
    SB_LOG_WARN("cannot send '%.*s' to the supervisor: %s", static_cast<int>(kind.size()),
                kind.data(), uv_strerror(rc));
  }
}

Handover::Arrival Handover::take_socket(int fd) {
  // A socketpair's end (AF_UNIX) comes from a TLS relay (tls_relay.hpp); anything
  // else than a stream socket is refused.
  sockaddr_storage address{};
  socklen_t length = sizeof address;
  int type = 0;
  socklen_t type_length = sizeof type;
  const bool stream_socket =
      ::getsockname(fd, reinterpret_cast<sockaddr*>(&address), &length) == 0 &&
      ::getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &type_length) == 0 && type == SOCK_STREAM;
  const bool relayed = stream_socket && address.ss_family == AF_UNIX;
  net::TcpStream* stream = net::TcpStream::create(loop_, nullptr);
  const int rc = stream_socket ? uv_tcp_open(stream->handle(), fd) : UV_ENOTSOCK;
  if (rc != 0) {
    SB_LOG_WARN("could not take a handed-over socket: %s", uv_strerror(rc));
    ::close(fd);
    stream->close();
    stream = nullptr;
  } else if (!relayed) {
    uv_tcp_nodelay(stream->handle(), 1);
  }
  return Arrival{stream, relayed};
}

void Handover::lose(const char* why) {
  if (state_ != State::kOpen) return;
  SB_LOG_WARN("hand-over pipe lost: %s", why);
  close();
  if (lost_) lost_();
}

}  // namespace sb::app
