// The worker mesh: frame encoding and one Link per peer. See mesh.hpp.
#include "tools/stub/mesh.hpp"

#include <unistd.h>

#include "base/little_endian.hpp"
#include "net/tcp_stream.hpp"
#include "tools/stub/log.hpp"

namespace sb::stub {
namespace {

constexpr std::size_t kHeaderBytes = 4 + 1 + 2;  // length, kind, address length
// A frame carries one stanza; the c2s framer already limits stanzas far below this.
constexpr std::uint32_t kMaxFrameBytes = 16u << 20;

}  // namespace

// One peer: a TcpStream on this process's end of the socketpair. on_closed() comes
// from the stream itself; the Link object lives as long as the Mesh.
class Mesh::Link final : public net::StreamHandler {
 public:
  Link(Mesh& mesh, std::size_t proc) : mesh_(mesh), proc_(proc) {}

  bool open(uv_loop_t* loop, int fd) {
    stream_ = net::TcpStream::create(loop, this);
    if (uv_tcp_open(stream_->handle(), fd) != 0 || stream_->start_reading() != 0) {
      ::close(fd);
      stream_->close();
      return false;
    }
    return true;
  }

  // Appends to the outbox; true if it was empty (the link needs a flush).
  bool queue(std::string_view frame_head, std::string_view address, std::string_view payload) {
    if (stream_ == nullptr) return false;
    const bool was_empty = outbox_.empty();
    outbox_.append(frame_head);
    outbox_.append(address);
    outbox_.append(payload);
    return was_empty;
  }

  void flush() {
    if (stream_ != nullptr && !outbox_.empty()) stream_->write(std::move(outbox_));
    std::string().swap(outbox_);  // an idle link keeps no capacity
  }

  void close() {
    if (stream_ != nullptr) stream_->close();
  }

  void on_read(net::TcpStream& /*stream*/, std::string_view bytes) override {
    // Frames wholly inside this read are handled straight from the shared buffer;
    // the tail of a split frame is kept in pending_ until the rest arrives.
    if (!pending_.empty()) {
      pending_.append(bytes);
      const std::size_t used = consume(pending_);
      pending_.erase(0, used);
      if (pending_.empty()) std::string().swap(pending_);  // give the capacity back
      return;
    }
    const std::size_t used = consume(bytes);
    if (used < bytes.size()) pending_.assign(bytes.substr(used));
  }

  void on_read_end(net::TcpStream& stream, int /*status*/) override { lost(stream); }
  void on_write_error(net::TcpStream& stream, int /*status*/) override { lost(stream); }
  void on_closed(net::TcpStream& /*stream*/) override { stream_ = nullptr; }

 private:
  void lost(net::TcpStream& stream) {
    if (!reported_) {
      reported_ = true;
      mesh_.sink_.on_peer_lost(proc_);
    }
    stream.close();
  }

  // Handles every complete frame at the start of `bytes`; returns the bytes used.
  std::size_t consume(std::string_view bytes) {
    std::size_t at = 0;
    while (bytes.size() - at >= kHeaderBytes) {
      const std::uint32_t length = base::get_u32_le(bytes.substr(at));
      if (length < kHeaderBytes - 4 || length > kMaxFrameBytes) {
        log(LogLevel::kError, "mesh: corrupt frame from p" + std::to_string(proc_));
        if (stream_ != nullptr) lost(*stream_);
        return bytes.size();
      }
      if (bytes.size() - at < 4 + static_cast<std::size_t>(length)) break;
      const auto kind = static_cast<FrameKind>(static_cast<unsigned char>(bytes[at + 4]));
      const std::size_t address_len =
          static_cast<unsigned char>(bytes[at + 5]) |
          (static_cast<std::size_t>(static_cast<unsigned char>(bytes[at + 6])) << 8);
      const std::size_t body = length - 3;  // after kind and address length
      if (address_len > body) {
        log(LogLevel::kError, "mesh: corrupt frame from p" + std::to_string(proc_));
        if (stream_ != nullptr) lost(*stream_);
        return bytes.size();
      }
      const std::string_view frame = bytes.substr(at + kHeaderBytes, body);
      ++mesh_.frames_received_;
      mesh_.sink_.on_frame(proc_, kind, frame.substr(0, address_len), frame.substr(address_len));
      at += 4 + length;
    }
    return at;
  }

  Mesh& mesh_;
  std::size_t proc_;
  net::TcpStream* stream_ = nullptr;
  std::string pending_;  // the start of a frame split across reads
  std::string outbox_;   // frames queued during this loop iteration
  bool reported_ = false;
};

Mesh::Mesh(uv_loop_t* loop, std::size_t self, const std::vector<int>& fds, FrameSink& sink)
    : self_(self), sink_(sink) {
  uv_prepare_init(loop, &prepare_);
  prepare_.data = this;
  uv_prepare_start(&prepare_, on_prepare);
  uv_unref(reinterpret_cast<uv_handle_t*>(&prepare_));  // never keeps the loop alive
  prepare_open_ = true;
  links_.resize(fds.size());
  for (std::size_t i = 0; i < fds.size(); ++i) {
    if (i == self_ || fds[i] < 0) continue;
    links_[i] = std::make_unique<Link>(*this, i);
    if (!links_[i]->open(loop, fds[i])) {
      log(LogLevel::kError, "mesh: cannot open the link to p" + std::to_string(i));
    }
  }
}

Mesh::~Mesh() {
  // close() and a loop run must come first; a Mesh destroyed open would leave
  // libuv holding a pointer to prepare_.
  if (prepare_open_) close();
}

void Mesh::send(std::size_t proc, FrameKind kind, std::string_view address,
                std::string_view payload) {
  if (proc >= links_.size() || !links_[proc] || address.size() > 0xffff) return;
  std::string head;  // 7 bytes: fits the small-string buffer, no allocation
  base::put_u32_le(head, static_cast<std::uint32_t>(3 + address.size() + payload.size()));
  head += static_cast<char>(kind);
  head += static_cast<char>(address.size() & 0xff);
  head += static_cast<char>((address.size() >> 8) & 0xff);
  ++frames_sent_;
  Link* link = links_[proc].get();
  if (link->queue(head, address, payload)) dirty_.push_back(link);
}

void Mesh::on_prepare(uv_prepare_t* handle) { static_cast<Mesh*>(handle->data)->flush(); }

void Mesh::flush() {
  // A flush may fail a write and report a lost peer, which sends nothing: dirty_
  // does not change under the loop.
  for (Link* link : dirty_) link->flush();
  dirty_.clear();
}

void Mesh::close() {
  flush();
  for (auto& link : links_) {
    if (link) link->close();
  }
  if (prepare_open_) {
    prepare_open_ = false;
    uv_close(reinterpret_cast<uv_handle_t*>(&prepare_), nullptr);
  }
}

}  // namespace sb::stub
