// Fixed-width little-endian 32-bit numbers: the length and kind fields at the
// head of the frames on Switchboard's own pipes (the hand-over between workers,
// the upgrade channel, the stub's mesh), read before the rest of a frame is
// there. Records use varints instead (record_codec.hpp).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace sb::base {

inline void put_u32_le(std::string& out, std::uint32_t value) {
  for (int shift = 0; shift < 32; shift += 8)
    out.push_back(static_cast<char>((value >> shift) & 0xff));
}

// The number in the first four bytes of `bytes` (the caller checked there are four).
inline std::uint32_t get_u32_le(std::string_view bytes) {
  std::uint32_t value = 0;
  for (std::size_t i = 0; i < 4; ++i) {
    value |= std::uint32_t{static_cast<unsigned char>(bytes[i])} << (8 * i);
  }
  return value;
}

}  // namespace sb::base
