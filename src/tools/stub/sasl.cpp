// Decoding of the SASL initial responses the stub accepts. See sasl.hpp.
#include "tools/stub/sasl.hpp"

#include <array>
#include <cstdint>

namespace sb::stub {
namespace {

constexpr std::array<std::int8_t, 256> make_decode_table() {
  std::array<std::int8_t, 256> table{};
  for (auto& entry : table) entry = -1;
  constexpr std::string_view alphabet =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  for (std::size_t i = 0; i < alphabet.size(); ++i) {
    table[static_cast<unsigned char>(alphabet[i])] = static_cast<std::int8_t>(i);
  }
  return table;
}

constexpr auto kDecode = make_decode_table();

}  // namespace

std::optional<std::string> decode_base64(std::string_view text) {
  std::string out;
  out.reserve(text.size() * 3 / 4);
  std::uint32_t bits = 0;
  int count = 0;
  int padding = 0;
  for (char c : text) {
    if (c == ' ' || c == '\t' || c == '\r' || c == '\n') continue;
    if (c == '=') {
      ++padding;
      continue;
    }
    const std::int8_t value = kDecode[static_cast<unsigned char>(c)];
    if (value < 0 || padding > 0) return std::nullopt;  // junk, or data after '='
    bits = (bits << 6) | static_cast<std::uint32_t>(value);
    if (++count == 4) {
      out += static_cast<char>((bits >> 16) & 0xff);
      out += static_cast<char>((bits >> 8) & 0xff);
      out += static_cast<char>(bits & 0xff);
      bits = 0;
      count = 0;
    }
  }
  // A last group of 2 or 3 characters carries 1 or 2 bytes; 1 character is junk.
  if (count == 1 || padding > 2) return std::nullopt;
  if (count == 2) out += static_cast<char>((bits >> 4) & 0xff);
  if (count == 3) {
    out += static_cast<char>((bits >> 10) & 0xff);
    out += static_cast<char>((bits >> 2) & 0xff);
  }
  return out;
}

bool valid_local_part(std::string_view local) {
  if (local.empty() || local.size() > 1023) return false;
  for (char c : local) {
    const auto byte = static_cast<unsigned char>(c);
    if (byte <= 0x20 || byte == 0x7f) return false;
    switch (c) {
      case '"':
      case '&':
      case '\'':
      case '/':
      case ':':
      case '<':
      case '>':
      case '@': return false;
      default: break;
    }
  }
  return true;
}

std::optional<PlainCredentials> parse_plain(std::string_view decoded) {
  const auto first = decoded.find('\0');
  if (first == std::string_view::npos) return std::nullopt;
  const auto second = decoded.find('\0', first + 1);
  if (second == std::string_view::npos) return std::nullopt;
  if (decoded.find('\0', second + 1) != std::string_view::npos) return std::nullopt;
  PlainCredentials out;
  out.authzid = std::string(decoded.substr(0, first));
  std::string_view authcid = decoded.substr(first + 1, second - first - 1);
  if (const auto at = authcid.find('@'); at != std::string_view::npos) {
    authcid = authcid.substr(0, at);
  }
  if (!valid_local_part(authcid)) return std::nullopt;
  out.authcid = std::string(authcid);
  out.password = std::string(decoded.substr(second + 1));
  return out;
}

}  // namespace sb::stub
