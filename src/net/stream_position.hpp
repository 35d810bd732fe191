// Where a process stands in a TCP connection's two byte streams, as the kernel
// counts them: what was read out of the socket and what was written into it.
//
// A socket whose owner died keeps its connection while a duplicate of it lives
// (app/keeper/), and the kernel's counts say exactly how far the dead owner got:
// read = bytes received - bytes still waiting to be read (SIOCINQ); written =
// bytes the peer acknowledged + bytes still in the send queue (SIOCOUTQ). The
// same two figures taken when a session's state was recorded tell whether the
// owner touched the connection after that: if either moved, the record is behind.
#pragma once

#include <cstdint>
#include <string>

namespace sb::net {

struct StreamPosition {
  std::uint64_t read = 0;
  std::uint64_t written = 0;
  bool operator==(const StreamPosition&) const = default;
};

// The position of connected TCP socket `fd`; false, with the reason, when the
// kernel cannot say (not a TCP socket, not connected).
bool stream_position(int fd, StreamPosition& position, std::string& error);

}  // namespace sb::net
