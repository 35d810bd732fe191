// The supervisor's relay of handed-over sockets; see handover_relay.hpp.
#include "app/handover_relay.hpp"

#include <utility>

#include "app/log.hpp"

namespace sb::app {

// One socket passing through: our handle of it, the frame to forward and the
// write that carries both. Freed when the handle's close completes.
struct HandoverRelay::Relay {
  HandoverRelay* owner = nullptr;
  uv_tcp_t tcp{};
  uv_write_t req{};
  std::string frame;
  std::uint32_t target = 0;
  std::uint64_t generation = 0;  // the channel's generation at the last write
  int attempts = 0;  // writes tried; a socket is re-sent once after a failed write
};

// The supervisor's view of one worker's pipe.
struct HandoverRelay::Channel {
  HandoverRelay* owner = nullptr;
  std::uint32_t index = 0;
  uv_pipe_t* pipe = nullptr;  // while the worker runs
  bool writable = false;      // false once a write failed: the worker is going away
  std::uint64_t generation = 0;  // counts attaches: which process a write went to
  FrameReader reader;
  std::deque<Relay*> arrived;  // sockets received whose frame has not completed
  std::deque<Relay*> waiting;  // hand-overs for this worker while it is down
};

HandoverRelay::HandoverRelay(uv_loop_t* loop, std::uint32_t workers) : loop_(loop) {
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
  channel.reader = FrameReader();
  pipe->data = &channel;
  const int rc = uv_read_start(reinterpret_cast<uv_stream_t*>(pipe), &HandoverRelay::on_alloc,
                               &HandoverRelay::on_read);
  if (rc != 0) SB_LOG_ERROR("worker %u: cannot read its IPC pipe: %s", index, uv_strerror(rc));
  std::deque<Relay*> waiting = std::move(channel.waiting);
  channel.waiting.clear();
  for (Relay* relay : waiting) deliver(relay);
}

void HandoverRelay::detach(std::uint32_t index) {
  Channel& channel = *channels_.at(index);
  if (channel.pipe == nullptr) return;
  stop_reading(channel);
  channel.pipe->data = nullptr;
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

void HandoverRelay::stop_reading(Channel& channel) {
  uv_read_stop(reinterpret_cast<uv_stream_t*>(channel.pipe));
  for (Relay* relay : channel.arrived) {
    if (relay != nullptr) drop(relay);
  }
  channel.arrived.clear();
}

void HandoverRelay::on_alloc(uv_handle_t* handle, std::size_t, uv_buf_t* buf) {
  auto& relay = *static_cast<Channel*>(handle->data)->owner;
  *buf = uv_buf_init(relay.read_buffer_.data(), static_cast<unsigned int>(relay.read_buffer_.size()));
}

void HandoverRelay::on_read(uv_stream_t* stream, ssize_t nread, const uv_buf_t* buf) {
  auto* channel = static_cast<Channel*>(stream->data);
  if (channel == nullptr) return;
  if (nread < 0) {
    // The worker closed its end: it is shutting down or dead. Its exit is what
    // detaches it; until then nothing more can be read or sent there.
    channel->owner->stop_reading(*channel);
    channel->writable = false;
    return;
  }
  channel->owner->on_bytes(*channel, buf->base, static_cast<std::size_t>(nread));
}

void HandoverRelay::on_bytes(Channel& channel, const char* data, std::size_t size) {
  // A frame's socket arrives with the read that carries the frame's first byte.
  take_pending_sockets(channel);
  std::vector<HandoverFrame> frames;
  if (!channel.reader.feed(std::string_view(data, size), frames)) {
    SB_LOG_ERROR("worker %u: corrupt hand-over frame; no longer reading its pipe", channel.index);
    stop_reading(channel);
    return;
  }
  for (HandoverFrame& frame : frames) {
    if (frame.target == kControlTarget) {  // no socket comes with it
      if (control_) control_(channel.index, parse_control(frame.request));
      continue;
    }
    if (channel.arrived.empty()) {
      SB_LOG_ERROR("worker %u: hand-over frame without a socket; no longer reading its pipe",
                   channel.index);
      stop_reading(channel);
      return;
    }
    Relay* relay = channel.arrived.front();
    channel.arrived.pop_front();
    if (relay == nullptr) continue;
    relay->target = frame.target;
    relay->frame = encode_frame(frame.target, frame.request, frame.peer);
    deliver(relay);
  }
}

bool HandoverRelay::send_control(std::uint32_t index, std::string_view kind,
                                 std::string_view body) {
  if (index >= channels_.size()) return false;
  Channel& channel = *channels_[index];
  if (channel.pipe == nullptr || !channel.writable) return false;
  struct Message {
    uv_write_t req{};
    std::string frame;
  };
  auto* message = new Message;
  message->frame = encode_control(kind, body);
  message->req.data = message;
  uv_buf_t buf = uv_buf_init(message->frame.data(), static_cast<unsigned int>(message->frame.size()));
  const int rc = uv_write(&message->req, reinterpret_cast<uv_stream_t*>(channel.pipe), &buf, 1,
                          [](uv_write_t* req, int) { delete static_cast<Message*>(req->data); });
  if (rc != 0) {
    delete message;
    return false;
  }
  return true;
}

void HandoverRelay::take_pending_sockets(Channel& channel) {
  auto* pipe = reinterpret_cast<uv_stream_t*>(channel.pipe);
  while (uv_pipe_pending_count(channel.pipe) > 0) {
    auto* relay = new Relay;
    relay->owner = this;
    uv_tcp_init(loop_, &relay->tcp);
    relay->tcp.data = relay;
    // A null entry keeps sockets and frames in step when one cannot be taken.
    if (const int rc = uv_accept(pipe, reinterpret_cast<uv_stream_t*>(&relay->tcp)); rc != 0) {
      SB_LOG_WARN("worker %u: could not take a handed-over socket: %s", channel.index,
                  uv_strerror(rc));
      drop(relay);
      relay = nullptr;
    }
    channel.arrived.push_back(relay);
  }
}

void HandoverRelay::deliver(Relay* relay) {
  if (closed_ || relay->target >= channels_.size() || relay->attempts >= 2) {
    drop(relay);
    return;
  }
  Channel& channel = *channels_[relay->target];
  if (channel.pipe != nullptr && channel.writable) {
    write(channel, relay);
    return;
  }
  if (channel.waiting.size() >= kMaxWaiting) {
    drop(relay);
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
  }
}

void HandoverRelay::on_written(uv_write_t* req, int status) {
  auto* relay = static_cast<Relay*>(req->data);
  HandoverRelay& self = *relay->owner;
  if (status == 0) {
    ++self.counters_.relayed;
    // The owner holds its own descriptor now; ours can go.
    uv_close(reinterpret_cast<uv_handle_t*>(&relay->tcp), &HandoverRelay::on_relay_closed);
    return;
  }
  // The owner's pipe broke (it died) or was closed (it exited): its next process
  // gets the socket, unless this was the second try.
  Channel& channel = *self.channels_[relay->target];
  if (channel.generation == relay->generation) channel.writable = false;
  self.deliver(relay);
}

void HandoverRelay::drop(Relay* relay) {
  ++counters_.dropped;
  uv_close(reinterpret_cast<uv_handle_t*>(&relay->tcp), &HandoverRelay::on_relay_closed);
}

void HandoverRelay::on_relay_closed(uv_handle_t* handle) { delete static_cast<Relay*>(handle->data); }

}  // namespace sb::app
