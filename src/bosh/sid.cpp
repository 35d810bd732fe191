#include "bosh/sid.hpp"

#include <openssl/rand.h>

#include <array>
#include <cstdint>
#include <cstring>

namespace sb::bosh {

namespace {

// Random bytes drawn from OpenSSL 4 KiB at a time: one RAND_bytes() per 256
// sids instead of one each (each call takes the DRBG's locks and checks for a
// fork with getpid(), four system calls a session creation). Every process of
// the daemon is exec'd, never a fork of one holding a pool, so no two
// processes can hand out the same bytes. One pool per thread: the event loops.
bool take_random(unsigned char* out, std::size_t n) {
  static constexpr std::size_t kPoolBytes = 4096;
  thread_local std::array<unsigned char, kPoolBytes> pool{};
  thread_local std::size_t used = kPoolBytes;
  if (n > kPoolBytes) return RAND_bytes(out, static_cast<int>(n)) == 1;
  if (kPoolBytes - used < n) {
    if (RAND_bytes(pool.data(), static_cast<int>(pool.size())) != 1) return false;
    used = 0;
  }
  std::memcpy(out, pool.data() + used, n);
  // Handed out once: what is no longer needed is not kept.
  std::memset(pool.data() + used, 0, n);
  used += n;
  return true;
}

}  // namespace

std::string make_sid(std::string_view prefix) {
  static constexpr char kAlphabet[] =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
  std::array<unsigned char, 16> random{};
  if (!take_random(random.data(), random.size())) return {};

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
