// The kernel's byte counts of a TCP connection; see stream_position.hpp.
#include "net/stream_position.hpp"

#include <linux/sockios.h>
#include <linux/tcp.h>
#include <netinet/in.h>
#include <sys/ioctl.h>
#include <sys/socket.h>

#include <cerrno>
#include <cstddef>
#include <cstring>

namespace sb::net {
namespace {
// The kernel's TCP states (include/net/tcp_states.h), which no uapi header names.
constexpr std::uint8_t kEstablished = 1;
constexpr std::uint8_t kCloseWait = 8;
}  // namespace

bool stream_position(int fd, StreamPosition& position, std::string& error) {
  struct tcp_info info {};
  socklen_t size = sizeof(info);
  if (::getsockopt(fd, IPPROTO_TCP, TCP_INFO, &info, &size) != 0) {
    error = std::string("TCP_INFO: ") + std::strerror(errno);
    return false;
  }
  // Both counters arrived with Linux 4.1/4.2; an older kernel's shorter answer
  // would leave them out.
  if (size < offsetof(tcp_info, tcpi_bytes_received) + sizeof(info.tcpi_bytes_received)) {
    error = "the kernel does not count a connection's bytes (Linux 4.2 or later needed)";
    return false;
  }
  if (info.tcpi_state != kEstablished && info.tcpi_state != kCloseWait) {
    error = "the connection is not open";
    return false;
  }
  int unread = 0;
  int unacked = 0;
  if (::ioctl(fd, SIOCINQ, &unread) != 0 || ::ioctl(fd, SIOCOUTQ, &unacked) != 0) {
    error = std::string("SIOCINQ/SIOCOUTQ: ") + std::strerror(errno);
    return false;
  }
  const std::uint64_t received = info.tcpi_bytes_received;
  const std::uint64_t acked = info.tcpi_bytes_acked;
  position.read = received - static_cast<unsigned int>(unread);
  position.written = acked + static_cast<unsigned int>(unacked);
  return true;
}

}  // namespace sb::net
