// UpgradeChannel: the unix socket between the running daemon and the binary
// replacing it (an upgrade in place, upgrade.hpp), carrying framed messages with
// descriptors.
//
// Both ends use it in blocking steps with a deadline: the old daemon holds its
// loop still while its sessions leave (nothing may change under a record once it
// is taken), and the new one takes them before its loop runs. A message is a
// kind, a byte length and a count of descriptors, then the bytes; its
// descriptors go with its first byte (SCM_RIGHTS), at most kMaxFds per message,
// so that descriptors in flight stay well below either side's file limit (the
// receiver takes them as the sender sends). The reader keeps a byte buffer and a
// queue of descriptors in arrival order: a message's descriptors arrive with or
// before its last byte, so a whole message always has its own.
#pragma once

#include <cstdint>
#include <deque>
#include <string>
#include <string_view>
#include <vector>

namespace sb::app {

class UpgradeChannel {
 public:
  static constexpr std::size_t kMaxFds = 253;  // SCM_MAX_FD, less a little room
  static constexpr std::uint32_t kMaxBytes = 64u << 20;

  struct Message {
    std::uint8_t kind = 0;
    std::string bytes;
    std::vector<int> fds;  // owned by the receiver
  };

  explicit UpgradeChannel(int fd) : fd_(fd) {}
  UpgradeChannel(const UpgradeChannel&) = delete;
  UpgradeChannel& operator=(const UpgradeChannel&) = delete;
  ~UpgradeChannel();  // closes the socket and every descriptor received but not taken

  // Sends one message (the kernel gives the receiver its own descriptors; the caller keeps
  // its own). False, with `error`, on a failure or when `timeout_ms` passes.
  bool send(std::uint8_t kind, std::string_view bytes, const std::vector<int>& fds, int timeout_ms,
            std::string& error);
  // The next message; false, with `error` ("closed" at the peer's end of stream),
  // on a failure, damaged framing, or when `timeout_ms` passes.
  bool receive(Message& message, int timeout_ms, std::string& error);
  int fd() const { return fd_; }
  // Bytes read and not yet taken as a message: a watcher of fd() must not wait
  // for the socket to be readable before it takes them.
  bool buffered() const { return !in_.empty(); }

 private:
  bool read_some(int timeout_ms, std::string& error);

  int fd_;
  std::string in_;
  std::deque<int> fds_in_;
};

// A unix stream socket pair, both ends close-on-exec: [ours, theirs].
bool make_channel_pair(int (&fds)[2], std::string& error);

}  // namespace sb::app
