// The RAND_bytes replacement behind fuzz_sid(); see deterministic_sids.hpp.
//
// make_sid() turns 16 bytes into 22 characters of a URL-safe base64 alphabet, most
// significant bits first: 21 characters of 6 bits, then one of the last 2 bits. We
// run that backwards: pack the 6-bit values of the wanted characters into 16 bytes.
// The last character must be one whose value has only its top 2 bits set: 'A' is.
#include "http_bosh/deterministic_sids.hpp"

#include <array>
#include <cstring>
#include <string_view>

#include "support/check.hpp"

namespace sb::fuzz {
namespace {

constexpr std::string_view kAlphabet =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
constexpr std::size_t kSidChars = 22;

std::uint32_t g_sids_made = 0;

std::array<unsigned char, 16> bytes_for(std::string_view sid) {
  std::array<unsigned char, 16> out{};
  std::size_t bit = 0;  // next bit to write, from the most significant of out[0]
  const auto put = [&](unsigned value, unsigned width) {
    for (unsigned i = width; i-- > 0;) {
      if ((value >> i) & 1u)
        out[bit / 8] = static_cast<unsigned char>(out[bit / 8] | (0x80u >> (bit % 8)));
      ++bit;
    }
  };
  for (std::size_t i = 0; i < kSidChars; ++i) {
    const auto value = static_cast<unsigned>(kAlphabet.find(sid[i]));
    if (i + 1 < kSidChars) {
      put(value, 6);
    } else {
      put(value >> 4, 2);
    }
  }
  return out;
}

}  // namespace

std::string fuzz_sid(std::uint32_t k) {
  std::string digits = std::to_string(k);
  return "fuzzsid" + std::string(14 - digits.size(), '0') + digits + "A";
}

void reset_sids() { g_sids_made = 0; }

std::uint32_t sids_made() { return g_sids_made; }

}  // namespace sb::fuzz

// Takes the place of OpenSSL's RAND_bytes for the objects linked into the fuzz
// target (see the --wrap option in tests/fuzz/CMakeLists.txt).
extern "C" int __wrap_RAND_bytes(unsigned char* buffer, int size) {
  FUZZ_CHECK(size == 16, "make_sid() now asks for a different number of random bytes");
  const auto bytes = sb::fuzz::bytes_for(sb::fuzz::fuzz_sid(sb::fuzz::g_sids_made++));
  std::memcpy(buffer, bytes.data(), bytes.size());
  return 1;
}
