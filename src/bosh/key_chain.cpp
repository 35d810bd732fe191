#include "bosh/key_chain.hpp"

#include <openssl/evp.h>

#include <array>

#include "base/ascii_case.hpp"

namespace sb::bosh {

std::string sha1_hex(std::string_view text) {
  std::array<unsigned char, EVP_MAX_MD_SIZE> digest{};
  unsigned int length = 0;
  EVP_Digest(text.data(), text.size(), digest.data(), &length, EVP_sha1(), nullptr);
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  out.reserve(length * 2);
  for (unsigned int i = 0; i < length; ++i) {
    out.push_back(kHex[digest[i] >> 4]);
    out.push_back(kHex[digest[i] & 0x0f]);
  }
  return out;
}

void KeyChain::start(std::string_view newkey) { expected_ = base::lowercase(newkey); }

bool KeyChain::accept(const std::string* key, const std::string* newkey) {
  if (!active()) {
    // A client may start keying on a later request only by rekeying; a lone
    // newkey starts a chain, a lone key is meaningless and ignored.
    if (newkey != nullptr) expected_ = base::lowercase(*newkey);
    return true;
  }
  // Hex digits compare case-insensitively (§15.3), so `expected_` is kept in
  // lowercase. The chain itself may have been hashed over the keys as sent or over
  // their usual lowercase form: accept either.
  if (key == nullptr) return false;
  if (sha1_hex(*key) != expected_ && sha1_hex(base::lowercase(*key)) != expected_) return false;
  expected_ =
      base::lowercase(newkey != nullptr ? std::string_view(*newkey) : std::string_view(*key));
  return true;
}

}  // namespace sb::bosh
