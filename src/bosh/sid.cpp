#include "bosh/sid.hpp"

#include <openssl/rand.h>

#include <array>
#include <cstdint>

namespace sb::bosh {

std::string make_sid(std::string_view prefix) {
  static constexpr char kAlphabet[] =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
  std::array<unsigned char, 16> random{};
  if (RAND_bytes(random.data(), static_cast<int>(random.size())) != 1) return {};

  std::string sid(prefix);
  sid.reserve(prefix.size() + kSidRandomChars);
  // 128 bits in 6-bit groups: 21 full groups and one of 2 bits.
  std::uint32_t acc = 0;
  int bits = 0;
  for (unsigned char byte : random) {
    acc = (acc << 8) | byte;
    bits += 8;
    while (bits >= 6) {
      bits -= 6;
      sid.push_back(kAlphabet[(acc >> bits) & 0x3f]);
    }
  }
  if (bits > 0) sid.push_back(kAlphabet[(acc << (6 - bits)) & 0x3f]);
  return sid;
}

}  // namespace sb::bosh
