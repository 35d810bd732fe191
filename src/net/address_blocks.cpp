// Address and CIDR block lists; see address_blocks.hpp.
#include "net/address_blocks.hpp"

#include <arpa/inet.h>

#include <charconv>
#include <cstring>

namespace sb::net {

bool ip_bytes(std::string_view text, std::array<std::uint8_t, 16>& out, bool* v4) {
  if (text.empty() || text.size() >= INET6_ADDRSTRLEN) return false;
  char buffer[INET6_ADDRSTRLEN];
  std::memcpy(buffer, text.data(), text.size());
  buffer[text.size()] = '\0';
  out.fill(0);
  std::uint8_t v4_bytes[4];
  if (inet_pton(AF_INET, buffer, v4_bytes) == 1) {
    out[10] = out[11] = 0xff;
    std::memcpy(&out[12], v4_bytes, 4);
    if (v4 != nullptr) *v4 = true;
    return true;
  }
  if (v4 != nullptr) *v4 = false;
  return inet_pton(AF_INET6, buffer, out.data()) == 1;
}

std::optional<AddressBlocks> AddressBlocks::parse(std::string_view list, std::string& error) {
  AddressBlocks blocks;
  while (!list.empty()) {
    const std::size_t space = list.find_first_of(" \t,");
    const std::string_view word = list.substr(0, space);
    list.remove_prefix(space == std::string_view::npos ? list.size() : space + 1);
    if (word.empty()) continue;
    Block block;
    const std::size_t slash = word.find('/');
    bool v4 = false;
    if (!ip_bytes(word.substr(0, slash), block.bytes, &v4)) {
      error = "'" + std::string(word) + "' is not an IP address or CIDR block";
      return std::nullopt;
    }
    const unsigned max = v4 ? 32 : 128;
    unsigned bits = max;
    if (slash != std::string_view::npos) {
      const std::string_view digits = word.substr(slash + 1);
      const auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), bits);
      if (digits.empty() || ec != std::errc() || end != digits.data() + digits.size() ||
          bits > max) {
        error = "'" + std::string(word) + "' has a prefix length outside 0-" + std::to_string(max);
        return std::nullopt;
      }
    }
    block.prefix = v4 ? bits + 96 : bits;
    blocks.blocks_.push_back(block);
  }
  return blocks;
}

bool AddressBlocks::contains(std::string_view ip) const {
  std::array<std::uint8_t, 16> bytes;
  if (blocks_.empty() || !ip_bytes(ip, bytes)) return false;
  for (const Block& block : blocks_) {
    const unsigned whole = block.prefix / 8;
    const unsigned rest = block.prefix % 8;
    if (std::memcmp(bytes.data(), block.bytes.data(), whole) != 0) continue;
    if (rest != 0) {
      const auto mask = static_cast<std::uint8_t>(0xff << (8 - rest));
      if ((bytes[whole] & mask) != (block.bytes[whole] & mask)) continue;
    }
    return true;
  }
  return false;
}

}  // namespace sb::net
