// Reading an IPC pipe with its descriptors; see ipc_reader.hpp.
#include "net/ipc_reader.hpp"

#include <fcntl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <utility>

namespace sb::net {
namespace {

constexpr std::size_t kBufferBytes = 64 * 1024;

}  // namespace

IpcReader::IpcReader(uv_loop_t* loop, char* buffer, std::size_t size)
    : loop_(loop), buffer_(buffer), buffer_size_(size) {
  if (buffer_ == nullptr || buffer_size_ == 0) {
    own_buffer_.resize(kBufferBytes);
    buffer_ = own_buffer_.data();
    buffer_size_ = own_buffer_.size();
  }
}

IpcReader::~IpcReader() {
  // Never started, or closed and the loop run: nothing is left open.
  if (fd_ >= 0 && state_ == State::kIdle) ::close(fd_);
}

int IpcReader::start(int fd, ChunkFn on_chunk, EndFn on_end) {
  if (state_ != State::kIdle) return UV_EINVAL;
  fd_ = ::fcntl(fd, F_DUPFD_CLOEXEC, 3);
  if (fd_ < 0) return uv_translate_sys_error(errno);
  on_chunk_ = std::move(on_chunk);
  on_end_ = std::move(on_end);
  int rc = uv_poll_init(loop_, &poll_, fd_);
  if (rc != 0) {
    ::close(fd_);
    fd_ = -1;
    return rc;
  }
  poll_.data = this;
  state_ = State::kReading;
  rc = uv_poll_start(&poll_, UV_READABLE | UV_DISCONNECT, &IpcReader::on_poll);
  if (rc != 0) close();
  return rc;
}

std::size_t IpcReader::read_now() {
  std::size_t chunks = 0;
  // Room for kMaxFdsPerChunk descriptors, aligned as the kernel wants it.
  union {
    char space[CMSG_SPACE(sizeof(int) * kMaxFdsPerChunk)];
    cmsghdr align;
  } control{};
  while (state_ == State::kReading && chunks < kChunksPerWakeup) {
    iovec iov{buffer_, buffer_size_};
    msghdr message{};
    message.msg_iov = &iov;
    message.msg_iovlen = 1;
    message.msg_control = control.space;
    message.msg_controllen = sizeof control.space;
    const ssize_t n = ::recvmsg(fd_, &message, MSG_DONTWAIT | MSG_CMSG_CLOEXEC);
    if (n < 0) {
      if (errno == EINTR) continue;
      if (errno != EAGAIN && errno != EWOULDBLOCK) end(uv_translate_sys_error(errno));
      break;
    }
    if (n == 0) {
      end(0);
      break;
    }
    ++chunks;
    Chunk chunk;
    chunk.bytes = std::string_view(buffer_, static_cast<std::size_t>(n));
    for (cmsghdr* header = CMSG_FIRSTHDR(&message); header != nullptr;
         header = CMSG_NXTHDR(&message, header)) {
      if (header->cmsg_level != SOL_SOCKET || header->cmsg_type != SCM_RIGHTS) continue;
      const std::size_t count = (header->cmsg_len - CMSG_LEN(0)) / sizeof(int);
      const unsigned char* data = CMSG_DATA(header);
      for (std::size_t i = 0; i < count; ++i) {
        int received = -1;
        std::memcpy(&received, data + i * sizeof(int), sizeof(int));
        chunk.fds.push_back(received);
      }
    }
    // The kernel sets MSG_CTRUNC when it could not hand us every descriptor sent
    // with these bytes: our file limit was reached, or more came than we had room
    // for. Those descriptors are gone (closed by the kernel).
    chunk.truncated = (message.msg_flags & MSG_CTRUNC) != 0;
    offset_ += static_cast<std::uint64_t>(n);
    const bool drained =
        chunk.fds.empty() && !chunk.truncated && static_cast<std::size_t>(n) < buffer_size_;
    if (!on_chunk_(chunk) || drained) break;
  }
  return chunks;
}

void IpcReader::on_poll(uv_poll_t* poll, int status, int events) {
  auto& self = *static_cast<IpcReader*>(poll->data);
  if (self.state_ != State::kReading) return;
  if (status < 0) {
    self.end(status);
    return;
  }
  // UV_DISCONNECT alone still leaves bytes to read before the end of the stream;
  // recvmsg() returning 0 is what ends it.
  if ((events & (UV_READABLE | UV_DISCONNECT)) != 0) self.read_now();
}

void IpcReader::end(int status) {
  if (state_ != State::kReading) return;
  uv_poll_stop(&poll_);
  state_ = State::kStopped;
  if (on_end_) on_end_(status);  // may close (or close and delete) the reader
}

void IpcReader::close() {
  if (state_ == State::kClosing || state_ == State::kClosed || state_ == State::kIdle) return;
  state_ = State::kClosing;
  uv_poll_stop(&poll_);
  uv_close(reinterpret_cast<uv_handle_t*>(&poll_), &IpcReader::on_closed);
}

void IpcReader::close_and_delete() {
  if (state_ == State::kClosing) {
    delete_when_closed_ = true;
    return;
  }
  if (state_ == State::kIdle || state_ == State::kClosed) {
    delete this;
    return;
  }
  delete_when_closed_ = true;
  close();
}

void IpcReader::on_closed(uv_handle_t* handle) {
  auto* self = static_cast<IpcReader*>(handle->data);
  ::close(self->fd_);
  self->fd_ = -1;
  self->state_ = State::kClosed;
  if (self->delete_when_closed_) delete self;
}

}  // namespace sb::net
