// KeeperLink: one end of the SOCK_SEQPACKET socket pair between a worker and its
// keeper (keeper.hpp). A packet is one whole message, bytes and descriptors
// together, so neither side ever reassembles: the worker sends without blocking
// (a full socket leaves its changes for the next try, never half a message),
// and the keeper reads one message per receive.
#pragma once

#include <cstddef>
#include <memory>
#include <string>
#include <vector>

namespace sb::app {

class KeeperLink {
 public:
  // The largest message: below the kernel's default socket send buffer (212,992
  // bytes), which bounds a packet.
  static constexpr std::size_t kMaxBytes = 160u << 10;
  static constexpr std::size_t kMaxFds = 250;  // SCM_MAX_FD is 253

  explicit KeeperLink(int fd = -1) : fd_(fd) {}
  KeeperLink(const KeeperLink&) = delete;
  KeeperLink& operator=(const KeeperLink&) = delete;
  ~KeeperLink();

  enum class Sent { kSent, kFull, kFailed };
  // Sends one message now, or says the socket is full (kFull: try later) or
  // broken (kFailed, with `error`). Never blocks.
  Sent send(const std::string& bytes, const std::vector<int>& fds, std::string& error);
  // The next message, waiting up to `timeout_ms` (-1: forever). False with
  // `error` ("closed" when the other end is gone, "timed out").
  bool receive(std::string& bytes, std::vector<int>& fds, int timeout_ms, std::string& error);
  int fd() const { return fd_; }
  int release() {
    const int fd = fd_;
    fd_ = -1;
    return fd;
  }

 private:
  int fd_;
  std::unique_ptr<char[]> buffer_;  // what receive() reads into, made on first use
};

// A SOCK_SEQPACKET pair, both ends close-on-exec: [keeper's, worker's].
bool make_keeper_pair(int (&fds)[2], std::string& error);

}  // namespace sb::app
