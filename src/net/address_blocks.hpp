// AddressBlocks: a list of IPv4 and IPv6 addresses and CIDR blocks
// ("10.0.0.0/8 ::1 fd00::/8"), parsed once and asked whether an address is in it.
// The app's `trusted_proxies` is one (app/front/client_address.hpp); it lives here,
// below the app, because the configuration checks the text with the same parse.
// An IPv4-mapped IPv6 address matches the IPv4 blocks.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace sb::net {

// `text` (a numeric IPv4 or IPv6 address, no brackets or port) as 16 bytes, IPv4
// as IPv4-mapped IPv6; false if it is no address. `v4`, if given, says which it was.
bool ip_bytes(std::string_view text, std::array<std::uint8_t, 16>& out, bool* v4 = nullptr);

class AddressBlocks {
 public:
  // nullopt with `error` set for a word that is no address or block. Words are
  // separated by spaces, tabs or commas.
  static std::optional<AddressBlocks> parse(std::string_view list, std::string& error);
  bool empty() const { return blocks_.empty(); }
  // `ip` as text ("192.0.2.1", "2001:db8::1"); false for anything that is not an IP.
  bool contains(std::string_view ip) const;

 private:
  struct Block {
    std::array<std::uint8_t, 16> bytes{};  // IPv4 as IPv4-mapped IPv6
    unsigned prefix = 128;                 // bits, counted on the 128-bit form
  };
  std::vector<Block> blocks_;
};

}  // namespace sb::net
