// A worker's and its keeper's packet socket; see keeper_link.hpp.
#include "app/keeper/keeper_link.hpp"

#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace sb::app {

KeeperLink::~KeeperLink() {
  if (fd_ >= 0) ::close(fd_);
}

bool make_keeper_pair(int (&fds)[2], std::string& error) {
  if (::socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, fds) != 0) {
    error = std::string("socketpair: ") + std::strerror(errno);
    return false;
  }
  // Room for many packets in flight: the keeper may be a moment behind.
  const int size = 4 << 20;
  for (int fd : fds) {
    ::setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &size, sizeof(size));
    ::setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &size, sizeof(size));
  }
  return true;
}

KeeperLink::Sent KeeperLink::send(const std::string& bytes, const std::vector<int>& fds,
                                  std::string& error) {
  iovec iov{const_cast<char*>(bytes.data()), bytes.size()};
  msghdr msg{};
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  std::vector<char> control;
  if (!fds.empty()) {
    control.resize(CMSG_SPACE(sizeof(int) * fds.size()));
    msg.msg_control = control.data();
    msg.msg_controllen = control.size();
    cmsghdr* cmsg = CMSG_FIRSTHDR(&msg);
    if (cmsg == nullptr) {
      error = "no room for the descriptors";
      return Sent::kFailed;
    }
    cmsg->cmsg_level = SOL_SOCKET;
    cmsg->cmsg_type = SCM_RIGHTS;
    cmsg->cmsg_len = CMSG_LEN(sizeof(int) * fds.size());
    std::memcpy(CMSG_DATA(cmsg), fds.data(), sizeof(int) * fds.size());
  }
  for (;;) {
    if (::sendmsg(fd_, &msg, MSG_DONTWAIT | MSG_NOSIGNAL) >= 0) return Sent::kSent;
    if (errno == EINTR) continue;
    if (errno == EAGAIN || errno == EWOULDBLOCK) return Sent::kFull;
    error = std::string("to the keeper: ") + std::strerror(errno);
    return Sent::kFailed;
  }
}

bool KeeperLink::receive(std::string& bytes, std::vector<int>& fds, int timeout_ms,
                         std::string& error) {
  pollfd p{fd_, POLLIN, 0};
  for (;;) {
    const int ready = ::poll(&p, 1, timeout_ms);
    if (ready > 0) break;
    if (ready == 0) {
      error = "timed out";
      return false;
    }
    if (errno != EINTR) {
      error = std::string("poll: ") + std::strerror(errno);
      return false;
    }
  }
  // One buffer for every receive: a fresh one would be zeroed each time.
  if (!buffer_) buffer_ = std::make_unique<char[]>(kMaxBytes + 1);
  iovec iov{buffer_.get(), kMaxBytes + 1};
  alignas(cmsghdr) char control[CMSG_SPACE(sizeof(int) * kMaxFds)];
  msghdr msg{};
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  msg.msg_control = control;
  msg.msg_controllen = sizeof(control);
  ssize_t n;
  do {
    n = ::recvmsg(fd_, &msg, MSG_CMSG_CLOEXEC | MSG_DONTWAIT);
  } while (n < 0 && errno == EINTR);
  fds.clear();
  if (n >= 0) {
    for (cmsghdr* c = CMSG_FIRSTHDR(&msg); c != nullptr; c = CMSG_NXTHDR(&msg, c)) {
      if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS) continue;
      const std::size_t count = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
      const auto* data = reinterpret_cast<const int*>(CMSG_DATA(c));
      fds.insert(fds.end(), data, data + count);
    }
  }
  if (n < 0) {
    error = std::string("from the keeper link: ") + std::strerror(errno);
    if (errno == EAGAIN) error = "timed out";
    return false;
  }
  if (n == 0) {
    error = "closed";
    return false;
  }
  if ((msg.msg_flags & (MSG_TRUNC | MSG_CTRUNC)) != 0) {
    for (int fd : fds) ::close(fd);
    fds.clear();
    error = "a message too large for the keeper link";
    return false;
  }
  bytes.assign(buffer_.get(), static_cast<std::size_t>(n));
  return true;
}

}  // namespace sb::app
