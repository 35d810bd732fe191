// The supervisor's relay of handed-over sockets; see handover_relay.hpp.
#include "app/handover/handover_relay.hpp"

#include <sys/ioctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <utility>

#include "app/log/log.hpp"
#include "app/metrics/process_stats.hpp"

namespace sb::app {
namespace {

// What a client whose hand-over could not be relayed in time reads before its
// connection closes. Plain HTTP: the relay never parses the request, so it cannot
// speak BOSH; a 503 is what every BOSH client retries (a browser that sees no
// CORS header retries it as a failed request, which it also resends).
constexpr std::string_view kBusyResponse =
    "HTTP/1.1 503 Service Unavailable\r\n"
    "Retry-After: 1\r\n"
    "Content-Type: text/plain; charset=utf-8\r\n"
    "Content-Length: 41\r\n"
    "Connection: close\r\n"
    "\r\n"
    "busy: send the request again in a moment\n";

// How many client sockets the relay may hold open with `baseline` descriptors
// open besides them: half of what the file limit leaves (read each time: an
// operator may change it with prlimit), the rest being room to spare. A process
// at its limit is handed frames without their sockets.
std::size_t socket_budget(std::uint64_t baseline) {
  rlimit limit{};
  if (getrlimit(RLIMIT_NOFILE, &limit) != 0 || limit.rlim_cur == RLIM_INFINITY) return 8192;
  const std::uint64_t free = limit.rlim_cur > baseline ? limit.rlim_cur - baseline : 0;
  return std::max<std::size_t>(8, static_cast<std::size_t>(free / 2));
}

}  // namespace

// One socket passing through: our handle of it, the frame to forward and the
// write that carries both. Freed when the handle's close completes.
struct HandoverRelay::Relay {
  HandoverRelay* owner = nullptr;
  uv_tcp_t tcp{};
  uv_write_t req{};
  std::string frame;
  std::uint32_t target = 0;
  std::uint64_t generation = 0;  // the channel's generation at the last write
  int attempts = 0;              // writes tried; a socket is re-sent once after a failed write
};

// The supervisor's view of one worker's pipe.
struct HandoverRelay::Channel {
  HandoverRelay* owner = nullptr;
  std::uint32_t index = 0;
  uv_pipe_t* pipe = nullptr;         // while the worker runs
  net::IpcReader* reader = nullptr;  // reads the pipe; closes itself on detach
  bool writable = false;             // false once a write failed: the worker is going away
  std::uint64_t generation = 0;      // counts attaches: which process a write went to
  std::size_t in_flight = 0;         // writes to this pipe not yet completed
  PipeInbox<Relay*> inbox;           // frames, and the sockets waiting for theirs
  std::deque<Relay*> waiting;        // hand-overs for this worker while it is down
};

HandoverRelay::HandoverRelay(uv_loop_t* loop, std::uint32_t workers, std::size_t max_held)
    : loop_(loop), fixed_max_held_(max_held) {
  update_budget();
  for (std::uint32_t i = 0; i < workers; ++i) {
    auto channel = std::make_unique<Channel>();
    channel->owner = this;
    channel->index = i;
    channels_.push_back(std::move(channel));
  }
}

HandoverRelay::~HandoverRelay() = default;

void HandoverRelay::attach(std::uint32_t index, uv_pipe_t* pipe) {
  Channel& channel = *channels_.at(index);
  channel.pipe = pipe;
  channel.writable = true;
  ++channel.generation;
  channel.in_flight = 0;  // writes to the old process complete against its generation
  channel.inbox = PipeInbox<Relay*>();
  channel.reader = new net::IpcReader(loop_, read_buffer_.data(), read_buffer_.size());
  update_budget();  // the new pipe's descriptors count against it
  uv_os_fd_t fd = -1;
  int rc = uv_fileno(reinterpret_cast<uv_handle_t*>(pipe), &fd);
  if (rc == 0) {
    rc = channel.reader->start(
        fd, [this, &channel](net::IpcReader::Chunk& chunk) { return on_chunk(channel, chunk); },
        [this, &channel](int) {
          // The worker closed its end: it is shutting down or dead. Its exit is
          // what detaches it; until then nothing more can be read or sent there.
          stop_reading(channel);
          channel.writable = false;
        });
  }
  if (rc != 0) SB_LOG_ERROR("worker %u: cannot read its IPC pipe: %s", index, uv_strerror(rc));
  send_waiting(channel);
}

// Hand-overs that waited for this worker's process, in order, as many as its
// pipe may have in flight; on_written() sends more as writes complete.
void HandoverRelay::send_waiting(Channel& channel) {
  while (!channel.waiting.empty() && channel.pipe != nullptr && channel.writable &&
         channel.in_flight < kMaxInFlightPerWorker) {
    Relay* relay = channel.waiting.front();
    channel.waiting.pop_front();
    if (closed_ || relay->attempts >= 2) {
      drop(relay);
    } else if (held_ > max_held_) {
      refuse(relay);
    } else {
      write(channel, relay);
    }
  }
}

void HandoverRelay::detach(std::uint32_t index) {
  Channel& channel = *channels_.at(index);
  if (channel.pipe == nullptr) return;
  stop_reading(channel);
  if (channel.reader != nullptr) channel.reader->close_and_delete();
  channel.reader = nullptr;
  channel.pipe = nullptr;
  channel.writable = false;
}

void HandoverRelay::close_all() {
  closed_ = true;
  for (auto& channel : channels_) {
    std::deque<Relay*> waiting = std::move(channel->waiting);
    channel->waiting.clear();
    for (Relay* relay : waiting) drop(relay);
  }
}

bool HandoverRelay::read_now(std::uint32_t index) {
  if (index >= channels_.size()) return false;
  Channel& channel = *channels_[index];
  if (channel.reader == nullptr || !channel.reader->reading()) return false;
  channel.reader->read_now();
  return true;
}

void HandoverRelay::stop_reading(Channel& channel) {
  if (channel.reader != nullptr && channel.reader->reading()) channel.reader->close();
  for (Relay* relay : channel.inbox.take_all()) drop(relay);
}

void HandoverRelay::update_budget() {
  if (fixed_max_held_ != 0) {
    max_held_ = fixed_max_held_;
    return;
  }
  const std::uint64_t open = count_open_fds();
  baseline_fds_ = open > held_ ? open - held_ : 0;
  max_held_ = socket_budget(baseline_fds_);
}

bool HandoverRelay::on_chunk(Channel& channel, net::IpcReader::Chunk& chunk) {
  if (!chunk.fds.empty() && fixed_max_held_ == 0) max_held_ = socket_budget(baseline_fds_);
  std::vector<Relay*> sockets;
  for (const int fd : chunk.fds) {
    auto* relay = new Relay;
    relay->owner = this;
    uv_tcp_init(loop_, &relay->tcp);
    relay->tcp.data = relay;
    ++held_;
    if (const int rc = uv_tcp_open(&relay->tcp, fd); rc != 0) {
      SB_LOG_WARN("worker %u: could not take a handed-over socket: %s", channel.index,
                  uv_strerror(rc));
      ::close(fd);
      drop(relay);
      continue;
    }
    sockets.push_back(relay);
  }
  if (chunk.truncated) {
    // The frame of this chunk comes without its socket: claim() finds none and
    // the request is dropped, alone.
    SB_LOG_WARN(
        "worker %u: a handed-over socket was lost on the way (the supervisor holds %zu "
        "descriptors)",
        channel.index, held_);
  }
  std::vector<HandoverFrame> frames;
  if (const std::uint64_t skipped = channel.inbox.take(chunk.bytes, sockets, frames);
      skipped != 0) {
    counters_.resyncs += skipped;
    SB_LOG_ERROR("worker %u: corrupt bytes on its IPC pipe; skipped to the next frame",
                 channel.index);
  }
  const std::uint64_t generation = channel.generation;
  for (HandoverFrame& frame : frames) {
    on_frame(channel, frame);
    // A control handler may have detached this worker: its bytes are done with.
    if (channel.generation != generation || channel.reader == nullptr) return false;
  }
  return true;
}

void HandoverRelay::on_frame(Channel& channel, HandoverFrame& frame) {
  if (frame.target == kControlTarget) {  // no socket comes with it
    if (control_) control_(channel.index, parse_control(frame.request));
    return;
  }
  std::vector<Relay*> orphans;
  const std::optional<Relay*> socket = channel.inbox.claim(frame, orphans);
  for (Relay* orphan : orphans) {
    ++counters_.lost;
    SB_LOG_WARN("worker %u: a handed-over socket came without a frame; closed", channel.index);
    drop(orphan);
  }
  if (!socket) {
    ++counters_.lost;
    ++counters_.dropped;
    SB_LOG_WARN("worker %u: a hand-over frame came without its socket; that request is dropped",
                channel.index);
    return;
  }
  Relay* relay = *socket;
  relay->target = frame.target;
  relay->frame = encode_frame(frame.target, frame.request, frame.peer);
  deliver(relay);
}

bool HandoverRelay::send_gate(std::uint32_t index, int fd) {
  if (index >= channels_.size() || channels_[index]->pipe == nullptr ||
      !channels_[index]->writable) {
    ::close(fd);
    return false;
  }
  auto* relay = new Relay;
  relay->owner = this;
  uv_tcp_init(loop_, &relay->tcp);  // libuv passes any stream socket in a tcp handle
  relay->tcp.data = relay;
  ++held_;
  if (uv_tcp_open(&relay->tcp, fd) != 0) {
    ::close(fd);
    drop(relay);
    return false;
  }
  relay->target = index;
  relay->attempts = 1;  // a gate is sent once: a worker that is gone has no use for it
  relay->frame = encode_frame(kUpgradeGateTarget, {});
  write(*channels_[index], relay);
  return true;
}

bool HandoverRelay::send_control(std::uint32_t index, std::string_view kind,
                                 std::string_view body) {
  if (index >= channels_.size()) return false;
  Channel& channel = *channels_[index];
  if (channel.pipe == nullptr || !channel.writable) return false;
  return write_control(reinterpret_cast<uv_stream_t*>(channel.pipe), kind, body) == 0;
}

void HandoverRelay::deliver(Relay* relay) {
  if (closed_ || relay->target >= channels_.size() || relay->attempts >= 2) {
    drop(relay);
    return;
  }
  Channel& channel = *channels_[relay->target];
  // Near its share of the file limit the relay answers at once rather than hold
  // one more socket (held_ counts this one too: at most max_held_ stay open).
  if (held_ > max_held_) {
    refuse(relay);
    return;
  }
  if (channel.pipe != nullptr && channel.writable && channel.waiting.empty() &&
      channel.in_flight < kMaxInFlightPerWorker) {
    write(channel, relay);
    return;
  }
  // The owner is down, or not reading its pipe as fast as they come (a restarted
  // worker taking up its kept sessions while all their clients resend): they
  // wait their turn, up to a point; past it the client is told to retry.
  if (channel.waiting.size() >= kMaxWaiting) {
    refuse(relay);
    return;
  }
  channel.waiting.push_back(relay);
}

void HandoverRelay::write(Channel& channel, Relay* relay) {
  ++relay->attempts;
  relay->generation = channel.generation;
  relay->req.data = relay;
  uv_buf_t buf = uv_buf_init(relay->frame.data(), static_cast<unsigned int>(relay->frame.size()));
  const int rc = uv_write2(&relay->req, reinterpret_cast<uv_stream_t*>(channel.pipe), &buf, 1,
                           reinterpret_cast<uv_stream_t*>(&relay->tcp), &HandoverRelay::on_written);
  if (rc != 0) {
    channel.writable = false;
    deliver(relay);  // waits for the worker's next process
    return;
  }
  ++channel.in_flight;
}

void HandoverRelay::on_written(uv_write_t* req, int status) {
  auto* relay = static_cast<Relay*>(req->data);
  HandoverRelay& self = *relay->owner;
  Channel& channel = *self.channels_[relay->target];
  if (channel.generation == relay->generation && channel.in_flight > 0) --channel.in_flight;
  if (status == 0) {
    ++self.counters_.relayed;
    // The owner holds its own descriptor now; ours can go.
    self.release(relay);
    self.send_waiting(channel);
    return;
  }
  // The owner's pipe broke (it died) or was closed (it exited): its next process
  // gets the socket, unless this was the second try.
  if (channel.generation == relay->generation) channel.writable = false;
  self.deliver(relay);
}

void HandoverRelay::refuse(Relay* relay) {
  ++counters_.refused;
  uv_os_fd_t fd = -1;
  if (uv_fileno(reinterpret_cast<uv_handle_t*>(&relay->tcp), &fd) == 0) {
    // A few hundred bytes into an idle socket's empty send buffer: never blocks.
    [[maybe_unused]] const ssize_t n =
        ::send(fd, kBusyResponse.data(), kBusyResponse.size(), MSG_DONTWAIT | MSG_NOSIGNAL);
  }
  drop(relay);
}

void HandoverRelay::drop(Relay* relay) {
  ++counters_.dropped;
  release(relay);
}

void HandoverRelay::release(Relay* relay) {
  // uv_close() closes the descriptor at once (the callback only frees memory),
  // so the count of what this process holds goes down here.
  --held_;
  uv_close(reinterpret_cast<uv_handle_t*>(&relay->tcp), &HandoverRelay::on_relay_closed);
}

void HandoverRelay::on_relay_closed(uv_handle_t* handle) {
  delete static_cast<Relay*>(handle->data);
}

bool HandoverRelay::has_unread(std::uint32_t index) const {
  if (index >= channels_.size() || channels_[index]->pipe == nullptr) return false;
  uv_os_fd_t fd = -1;
  int waiting = 0;
  return uv_fileno(reinterpret_cast<const uv_handle_t*>(channels_[index]->pipe), &fd) == 0 &&
         ::ioctl(fd, FIONREAD, &waiting) == 0 && waiting > 0;
}

}  // namespace sb::app
