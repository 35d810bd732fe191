// SourceAddresses: the local IPv4 addresses the generator's connections leave
// from (`--source 127.0.1.1-127.0.1.250`). One address's ephemeral ports
// (net.ipv4.ip_local_port_range, ~28,000 by default) bound how many connections
// can go to one server address:port; spreading the connections over a range of
// loopback sources multiplies that. Each connection takes the next address in
// turn; the port is left to the kernel at connect time (IP_BIND_ADDRESS_NO_PORT),
// so a bound source does not reserve a port per address before it is needed.
#pragma once

#include <netinet/in.h>

#include <cstdint>
#include <string>
#include <vector>

namespace sb::soak {

class SourceAddresses {
 public:
  // "A-B" or a single "A". Returns false with `error` on bad text.
  bool parse(const std::string& text, std::string& error);
  bool empty() const { return addrs_.empty(); }
  std::size_t size() const { return addrs_.size(); }
  // The next address in turn (network order), never call when empty().
  std::uint32_t next();
  std::string describe() const;

 private:
  std::vector<std::uint32_t> addrs_;  // host order
  std::size_t next_ = 0;
};

// The size of the kernel's ephemeral port range (ip_local_port_range), or 28232
// (Linux's default) when it cannot be read.
std::uint32_t ephemeral_port_count();

// Opens a non-blocking TCP socket bound to `source_be` (network order, port 0) with
// IP_BIND_ADDRESS_NO_PORT, or returns -errno.
int open_bound_socket(std::uint32_t source_be);

}  // namespace sb::soak
