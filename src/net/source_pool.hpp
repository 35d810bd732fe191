// SourcePool: the local addresses that outgoing (upstream) connections bind to,
// handed out in turn.
//
// Why: a TCP connection is named by its four-tuple, so towards one server address
// and port one source address gives at most the ephemeral port range (about
// 28,000 by default, 64,000 at most) connections. A million sessions in front of
// one XMPP server need many source addresses; on loopback every 127.x.y.z is
// local already. The connector (connector.hpp) binds each new socket to the next
// address of the destination's family with port 0 and IP_BIND_ADDRESS_NO_PORT, so
// the kernel picks the port at connect time from the whole four-tuple space
// instead of reserving one per source address at bind time.
//
// The text form is a list of addresses and inclusive ranges, separated by spaces
// or commas: "127.0.0.2-127.0.0.50 10.0.0.7 fd00::10-fd00::1f [::1]". A range stays
// within one family and runs upwards; a range may hold at most kMaxRangeSize
// addresses (a typo like 10.0.0.1-11.0.0.1 is an error, not 16 million binds).
#pragma once

#include <sys/socket.h>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace sb::net {

class SourcePool {
 public:
  static constexpr std::uint64_t kMaxRangeSize = std::uint64_t{1} << 24;

  // nullopt and `error` (naming the bad word) if `text` is not a valid list.
  // An empty text is a valid, empty pool.
  static std::optional<SourcePool> parse(std::string_view text, std::string& error);

  bool empty() const { return ranges_.empty(); }
  // Addresses of `family` (AF_INET or AF_INET6) in the pool.
  std::uint64_t count(int family) const;
  // The next address of `family`, round robin over the whole pool, with port 0.
  // False if the pool has none of that family.
  bool next(int family, sockaddr_storage& out);

 private:
  struct Range {
    int family = AF_INET;
    std::uint64_t high = 0;  // IPv6: the first address's upper 64 bits
    std::uint64_t low = 0;   // IPv6: its lower 64 bits; IPv4: the address
    std::uint64_t size = 1;
  };
  std::vector<Range> ranges_;
  std::uint64_t cursor_v4_ = 0;
  std::uint64_t cursor_v6_ = 0;
};

}  // namespace sb::net
