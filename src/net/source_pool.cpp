// Parsing and round robin of the source-address pool; see source_pool.hpp.
#include "net/source_pool.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>

#include <cstring>

namespace sb::net {

namespace {

struct Address {
  int family = AF_INET;
  std::uint64_t high = 0;
  std::uint64_t low = 0;
};

std::optional<Address> parse_address(std::string_view word) {
  if (word.size() >= 2 && word.front() == '[' && word.back() == ']') {
    word = word.substr(1, word.size() - 2);
  }
  const std::string text(word);
  Address address;
  in_addr v4{};
  in6_addr v6{};
  if (inet_pton(AF_INET, text.c_str(), &v4) == 1) {
    address.low = ntohl(v4.s_addr);
    return address;
  }
  if (inet_pton(AF_INET6, text.c_str(), &v6) == 1) {
    address.family = AF_INET6;
    for (int i = 0; i < 8; ++i) address.high = (address.high << 8) | v6.s6_addr[i];
    for (int i = 8; i < 16; ++i) address.low = (address.low << 8) | v6.s6_addr[i];
    return address;
  }
  return std::nullopt;
}

}  // namespace

std::optional<SourcePool> SourcePool::parse(std::string_view text, std::string& error) {
  SourcePool pool;
  std::size_t i = 0;
  while (i < text.size()) {
    while (i < text.size() && (text[i] == ' ' || text[i] == '\t' || text[i] == ',')) ++i;
    const std::size_t start = i;
    while (i < text.size() && text[i] != ' ' && text[i] != '\t' && text[i] != ',') ++i;
    if (i == start) break;
    const std::string_view word = text.substr(start, i - start);
    const std::size_t dash = word.find('-');
    const auto first = parse_address(word.substr(0, dash));
    const auto last = dash == std::string_view::npos ? first : parse_address(word.substr(dash + 1));
    if (!first || !last) {
      error = "'" + std::string(word) + "' is not an IP address or a range first-last";
      return std::nullopt;
    }
    if (first->family != last->family) {
      error = "range '" + std::string(word) + "' mixes IPv4 and IPv6";
      return std::nullopt;
    }
    const bool backwards =
        last->high < first->high || (last->high == first->high && last->low < first->low);
    if (backwards) {
      error = "range '" + std::string(word) + "' runs backwards";
      return std::nullopt;
    }
    if (last->high != first->high || last->low - first->low >= kMaxRangeSize) {
      error = "range '" + std::string(word) + "' holds more than " + std::to_string(kMaxRangeSize) +
              " addresses";
      return std::nullopt;
    }
    pool.ranges_.push_back({first->family, first->high, first->low, last->low - first->low + 1});
  }
  return pool;
}

std::uint64_t SourcePool::count(int family) const {
  std::uint64_t total = 0;
  for (const Range& range : ranges_) {
    if (range.family == family) total += range.size;
  }
  return total;
}

bool SourcePool::next(int family, sockaddr_storage& out) {
  const std::uint64_t total = count(family);
  if (total == 0) return false;
  std::uint64_t& cursor = family == AF_INET ? cursor_v4_ : cursor_v6_;
  std::uint64_t offset = cursor++ % total;
  for (const Range& range : ranges_) {
    if (range.family != family) continue;
    if (offset >= range.size) {
      offset -= range.size;
      continue;
    }
    out = sockaddr_storage{};
    if (family == AF_INET) {
      auto* v4 = reinterpret_cast<sockaddr_in*>(&out);
      v4->sin_family = AF_INET;
      v4->sin_addr.s_addr = htonl(static_cast<std::uint32_t>(range.low + offset));
    } else {
      auto* v6 = reinterpret_cast<sockaddr_in6*>(&out);
      v6->sin6_family = AF_INET6;
      const std::uint64_t low = range.low + offset;  // a range never crosses the upper half
      for (int i = 0; i < 8; ++i) {
        v6->sin6_addr.s6_addr[i] = static_cast<std::uint8_t>(range.high >> (56 - 8 * i));
        v6->sin6_addr.s6_addr[8 + i] = static_cast<std::uint8_t>(low >> (56 - 8 * i));
      }
    }
    return true;
  }
  return false;  // not reached: offset < total
}

}  // namespace sb::net
