// Source address ranges and the bound, not-yet-connected sockets made from them.
#include "tools/soak/source_addresses.hpp"

#include <arpa/inet.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <fstream>

namespace sb::soak {

namespace {

bool parse_ip(const std::string& text, std::uint32_t& host_order) {
  in_addr a{};
  if (inet_pton(AF_INET, text.c_str(), &a) != 1) return false;
  host_order = ntohl(a.s_addr);
  return true;
}

std::string ip_text(std::uint32_t host_order) {
  in_addr a{};
  a.s_addr = htonl(host_order);
  char buf[INET_ADDRSTRLEN] = {};
  inet_ntop(AF_INET, &a, buf, sizeof buf);
  return buf;
}

}  // namespace

bool SourceAddresses::parse(const std::string& text, std::string& error) {
  addrs_.clear();
  const std::size_t dash = text.find('-');
  std::uint32_t lo = 0;
  std::uint32_t hi = 0;
  if (!parse_ip(text.substr(0, dash), lo) ||
      (dash != std::string::npos && !parse_ip(text.substr(dash + 1), hi))) {
    error = "--source: expected A or A-B (IPv4), got '" + text + "'";
    return false;
  }
  if (dash == std::string::npos) hi = lo;
  if (hi < lo || hi - lo >= 65536) {
    error = "--source: the range is empty or larger than 65536 addresses";
    return false;
  }
  for (std::uint32_t a = lo; a <= hi; ++a) addrs_.push_back(a);
  return true;
}

std::uint32_t SourceAddresses::next() {
  const std::uint32_t a = addrs_[next_];
  next_ = (next_ + 1) % addrs_.size();
  return htonl(a);
}

std::string SourceAddresses::describe() const {
  if (addrs_.empty()) return "";
  if (addrs_.size() == 1) return ip_text(addrs_.front());
  return ip_text(addrs_.front()) + "-" + ip_text(addrs_.back());
}

std::uint32_t ephemeral_port_count() {
  std::ifstream in("/proc/sys/net/ipv4/ip_local_port_range");
  std::uint32_t lo = 0;
  std::uint32_t hi = 0;
  if (in >> lo >> hi && hi > lo) return hi - lo + 1;
  return 28232;
}

int open_bound_socket(std::uint32_t source_be) {
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) return -errno;
#ifdef IP_BIND_ADDRESS_NO_PORT
  const int one = 1;
  ::setsockopt(fd, IPPROTO_IP, IP_BIND_ADDRESS_NO_PORT, &one, sizeof one);
#endif
  sockaddr_in local{};
  local.sin_family = AF_INET;
  local.sin_addr.s_addr = source_be;
  local.sin_port = 0;
  if (::bind(fd, reinterpret_cast<const sockaddr*>(&local), sizeof local) != 0) {
    const int err = errno;
    ::close(fd);
    return -err;
  }
  return fd;
}

}  // namespace sb::soak
