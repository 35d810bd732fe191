// Handover: a worker's end of the hand-over (docs/architecture.md, "Processes").
//
// Every worker accepts on the same port, so a request can reach a worker that
// does not own its session. The sid's prefix names the owner (sid_owner.hpp).
// As the endpoint's ForeignSidRouter, this class takes such a request, and with
// it the TCP connection it came on, to the owner: the socket goes over the IPC
// pipe to the supervisor (uv_write2, SCM_RIGHTS) together with the request
// re-serialized (handover_wire.hpp), and the supervisor passes both on to the
// owner's pipe. The owner adopts the socket as a new HttpSocket, parses those
// bytes first and carries on; later requests on that connection reach the owner
// directly. Here the socket is forgotten without being closed for the peer: only
// this process's descriptor is closed, once the send has completed.
//
// A TLS connection (the HTTPS listener's) cannot leave the process that holds its
// TLS state: its plaintext goes over a socketpair instead, whose far end is what
// is handed over (tls_relay.hpp). The owner cannot tell it from a plain one.
//
// A connection moves only with nothing else on it: no other request in flight,
// no byte read beyond this request, no answer still being written. Otherwise the
// request is answered 503 (retry on another connection). A prefix naming this
// worker or no worker of this node is not ours to route: the endpoint answers
// item-not-found.
//
// The same pipe brings the sockets other workers hand to this one; they are
// passed to the AdoptFn with their request bytes. The pipe is read with
// net::IpcReader (all that waits, in one wake-up) and sockets are paired with
// their frames by their place in the stream (handover_wire.hpp). When the pipe ends (the
// supervisor is gone) LostFn is called: the worker should shut down. Control
// messages (handover_wire.hpp) go both ways on it too: send_control() and the
// ControlFn.
#pragma once

#include <uv.h>

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>

#include "app/front/http_socket.hpp"
#include "app/handover/handover_wire.hpp"
#include "bosh/endpoint.hpp"
#include "net/ipc_reader.hpp"
#include "net/tcp_stream.hpp"

namespace sb::app {

struct HandoverCounters {
  std::uint64_t handed_over = 0;  // connections sent to their owner
  std::uint64_t adopted = 0;      // connections received from other workers
  std::uint64_t busy = 0;         // requests answered 503: their connection could not move
  std::uint64_t relayed = 0;      // TLS connections relayed to their owner (tls_relay.hpp)
  std::uint64_t lost = 0;  // frames that came without their socket, or sockets without a frame
};

class Handover final : public bosh::ForeignSidRouter {
 public:
  // `peer`: the client address the sending worker had for the connection (empty:
  // the socket's own). `tls_relayed`: the socket is the far end of a TLS relay
  // (tls_relay.hpp): plaintext here, but the client reached us over TLS.
  using AdoptFn = std::function<void(net::TcpStream& stream, std::string_view request_bytes,
                                     std::string_view peer, bool tls_relayed)>;
  using LostFn = std::function<void()>;
  using ControlFn = std::function<void(const ControlMessage& message)>;

  struct Identity {
    std::uint32_t self = 0;     // this worker's index
    std::uint32_t workers = 1;  // how many there are
    std::string node_id;        // the node part of sid prefixes; may be empty
  };

  Handover(uv_loop_t* loop, Identity identity, HttpSocket::Shared& sockets, AdoptFn adopt,
           LostFn lost);
  Handover(const Handover&) = delete;
  Handover& operator=(const Handover&) = delete;
  // close() must have been called and the loop run.
  ~Handover();

  // Opens the IPC pipe on `fd` and starts reading it. Returns 0 or a UV_E* error.
  int open(int fd, std::string& error);
  // Closes the pipe: sends still pending fail, and their sockets are closed.
  // Idempotent.
  void close();

  // bosh::ForeignSidRouter
  bool route(std::string_view sid, http::Request& request, http::Exchange& exchange) override;

  // Hands the connection of `request` (the one being dispatched) to worker `target`
  // with the request, as route() does for a session's owner; the admission
  // control uses it to pass a session creation to a worker with room. False, and
  // nothing done, if the connection cannot move or `target` is not another worker.
  bool pass_on(std::uint32_t target, http::Request& request);

  const HandoverCounters& counters() const { return counters_; }

  // Control messages from the supervisor go to `handler`.
  void set_control_handler(ControlFn handler) { control_ = std::move(handler); }
  // Sends a control message to the supervisor; dropped if the pipe is not open.
  void send_control(std::string_view kind, std::string_view body);
  // A kUpgradeGateTarget frame's socket goes to `handler` as a descriptor the
  // handler owns (its end of an upgrade gate, worker_upgrade.cpp).
  using GateFn = std::function<void(int fd)>;
  void set_gate_handler(GateFn handler) { gate_ = std::move(handler); }

 private:
  struct Outgoing;
  enum class State { kIdle, kOpen, kClosed };

  bool move(std::uint32_t target, http::Request& request, bool relay_tls);
  // `client_address`: the client as this worker knows it, sent with the frame.
  void send(std::uint32_t target, HttpSocket* socket, net::TcpStream& stream,
            std::string request_bytes, std::string_view client_address);
  bool on_chunk(net::IpcReader::Chunk& chunk);
  // A socket received: null if it could not be taken.
  struct Arrival {
    net::TcpStream* stream = nullptr;
    bool tls_relayed = false;  // a socketpair's end: from a TLS relay
  };

  Arrival take_socket(int fd);
  void lose(const char* why);
  static void on_sent(uv_write_t* req, int status);

  uv_loop_t* loop_;
  Identity identity_;
  HttpSocket::Shared& sockets_;
  AdoptFn adopt_;
  LostFn lost_;
  GateFn gate_;
  ControlFn control_;
  uv_pipe_t pipe_{};                  // the writes (uv_write2); never read by libuv
  net::IpcReader* reader_ = nullptr;  // the reads; closes itself after close()
  State state_ = State::kIdle;
  PipeInbox<Arrival> inbox_;  // frames, and the sockets waiting for theirs
  HandoverCounters counters_;
};

}  // namespace sb::app
