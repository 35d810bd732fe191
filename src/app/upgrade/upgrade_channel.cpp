// The upgrade channel's framing and descriptor passing; see upgrade_channel.hpp.
#include "app/upgrade/upgrade_channel.hpp"

#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>

#include "base/little_endian.hpp"

namespace sb::app {
namespace {
constexpr std::size_t kHead = 1 + 4 + 2;  // kind, length, descriptor count

using Clock = std::chrono::steady_clock;
int left_ms(Clock::time_point deadline) {
  const auto left =
      std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now()).count();
  return left > 0 ? static_cast<int>(left) : 0;
}

// Waits until `fd` is ready for `events`; false when the deadline passed.
bool wait_for(int fd, short events, Clock::time_point deadline) {
  for (;;) {
    pollfd p{fd, events, 0};
    const int rc = ::poll(&p, 1, left_ms(deadline));
    if (rc > 0) return true;
    if (rc == 0) return false;
    if (errno != EINTR) return true;  // let the read or write say what is wrong
  }
}
}  // namespace

UpgradeChannel::~UpgradeChannel() {
  for (int fd : fds_in_) ::close(fd);
  if (fd_ >= 0) ::close(fd_);
}

bool UpgradeChannel::send(std::uint8_t kind, std::string_view bytes, const std::vector<int>& fds,
                          int timeout_ms, std::string& error) {
  if (fds.size() > kMaxFds || bytes.size() > kMaxBytes) {
    error = "message too large for the upgrade channel";
    return false;
  }
  std::string frame;
  frame.reserve(kHead + bytes.size());
  frame.push_back(static_cast<char>(kind));
  base::put_u32_le(frame, static_cast<std::uint32_t>(bytes.size()));
  frame.push_back(static_cast<char>(fds.size() & 0xff));
  frame.push_back(static_cast<char>(fds.size() >> 8));
  frame.append(bytes);
  const auto deadline = Clock::now() + std::chrono::milliseconds(timeout_ms);
  std::size_t sent = 0;
  bool fds_sent = fds.empty();
  std::vector<char> control(CMSG_SPACE(sizeof(int) * (fds.empty() ? 1 : fds.size())));
  while (sent < frame.size()) {
    iovec iov{frame.data() + sent, frame.size() - sent};
    msghdr msg{};
    msg.msg_iov = &iov;
    msg.msg_iovlen = 1;
    if (!fds_sent) {
      msg.msg_control = control.data();
      msg.msg_controllen = CMSG_SPACE(sizeof(int) * fds.size());
      cmsghdr* cmsg = CMSG_FIRSTHDR(&msg);
      if (cmsg == nullptr) {
        error = "upgrade channel: no room for the descriptors";
        return false;
      }
      cmsg->cmsg_level = SOL_SOCKET;
      cmsg->cmsg_type = SCM_RIGHTS;
      cmsg->cmsg_len = CMSG_LEN(sizeof(int) * fds.size());
      std::memcpy(CMSG_DATA(cmsg), fds.data(), sizeof(int) * fds.size());
    }
    const ssize_t n = ::sendmsg(fd_, &msg, MSG_DONTWAIT | MSG_NOSIGNAL);
    if (n > 0) {
      sent += static_cast<std::size_t>(n);
      fds_sent = true;
      continue;
    }
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
      if (!wait_for(fd_, POLLOUT, deadline)) {
        error = "the upgrade channel did not drain in time";
        return false;
      }
      continue;
    }
    error = std::string("upgrade channel: ") + std::strerror(errno);
    return false;
  }
  return true;
}

bool UpgradeChannel::read_some(int timeout_ms, std::string& error) {
  const auto deadline = Clock::now() + std::chrono::milliseconds(timeout_ms);
  char buffer[64 * 1024];
  std::vector<char> control(CMSG_SPACE(sizeof(int) * kMaxFds));
  for (;;) {
    iovec iov{buffer, sizeof buffer};
    msghdr msg{};
    msg.msg_iov = &iov;
    msg.msg_iovlen = 1;
    msg.msg_control = control.data();
    msg.msg_controllen = control.size();
    const ssize_t n = ::recvmsg(fd_, &msg, MSG_DONTWAIT | MSG_CMSG_CLOEXEC);
    if (n > 0) {
      for (cmsghdr* c = CMSG_FIRSTHDR(&msg); c != nullptr; c = CMSG_NXTHDR(&msg, c)) {
        if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS) continue;
        const std::size_t count = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
        for (std::size_t i = 0; i < count; ++i) {
          int fd;
          std::memcpy(&fd, CMSG_DATA(c) + i * sizeof(int), sizeof(int));
          fds_in_.push_back(fd);
        }
      }
      if ((msg.msg_flags & MSG_CTRUNC) != 0) {
        error = "descriptors were cut off on the upgrade channel";
        return false;
      }
      in_.append(buffer, static_cast<std::size_t>(n));
      return true;
    }
    if (n == 0) {
      error = "closed";
      return false;
    }
    if (errno == EINTR) continue;
    if (errno == EAGAIN || errno == EWOULDBLOCK) {
      if (!wait_for(fd_, POLLIN, deadline)) {
        error = "no word from the other side of the upgrade in time";
        return false;
      }
      continue;
    }
    error = std::string("upgrade channel: ") + std::strerror(errno);
    return false;
  }
}

bool UpgradeChannel::receive(Message& message, int timeout_ms, std::string& error) {
  const auto deadline = Clock::now() + std::chrono::milliseconds(timeout_ms);
  for (;;) {
    if (in_.size() >= kHead) {
      const std::uint32_t length = base::get_u32_le(std::string_view(in_).substr(1));
      const std::size_t count = static_cast<unsigned char>(in_[5]) |
                                (static_cast<std::size_t>(static_cast<unsigned char>(in_[6])) << 8);
      if (length > kMaxBytes || count > kMaxFds) {
        error = "damaged framing on the upgrade channel";
        return false;
      }
      if (in_.size() >= kHead + length) {
        if (fds_in_.size() < count) {
          error = "a message came without its descriptors on the upgrade channel";
          return false;
        }
        message.kind = static_cast<std::uint8_t>(in_[0]);
        message.bytes.assign(in_, kHead, length);
        message.fds.assign(fds_in_.begin(), fds_in_.begin() + static_cast<long>(count));
        fds_in_.erase(fds_in_.begin(), fds_in_.begin() + static_cast<long>(count));
        in_.erase(0, kHead + length);
        return true;
      }
    }
    if (!read_some(left_ms(deadline), error)) return false;
  }
}

bool make_channel_pair(int (&fds)[2], std::string& error) {
  if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds) != 0) {
    error = std::string("socketpair: ") + std::strerror(errno);
    return false;
  }
  return true;
}

}  // namespace sb::app
