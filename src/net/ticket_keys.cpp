// Rotating session-ticket keys; see ticket_keys.hpp.
#include "net/ticket_keys.hpp"

#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>
#include <openssl/ssl.h>

#include <algorithm>
#include <cstring>
#include <ctime>

namespace sb::net {
namespace {

constexpr std::string_view kLabel = "switchboard ticket key";

int hex_digit(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// Where each SSL_CTX keeps its ring (one index for the process).
int ring_index() {
  static const int index = SSL_CTX_get_ex_new_index(0, nullptr, nullptr, nullptr, nullptr);
  return index;
}

bool set_mac_key(EVP_MAC_CTX* mac, const TicketKey& key) {
  char digest[] = "SHA256";
  const OSSL_PARAM params[] = {
      OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, digest, 0),
      OSSL_PARAM_construct_end(),
  };
  return EVP_MAC_init(mac, key.hmac.data(), key.hmac.size(), params) == 1;
}

// OpenSSL's ticket callback (SSL_CTX_set_tlsext_ticket_key_evp_cb): `enc` 1 seals
// a new ticket, 0 opens one. Returns 1 (done), 2 (opened; renew it), 0 (unknown
// key: full handshake) or -1 (error).
int on_ticket(SSL* ssl, unsigned char* key_name, unsigned char* iv, EVP_CIPHER_CTX* cipher,
              EVP_MAC_CTX* mac, int enc) {
  auto* ring = static_cast<TicketKeyRing*>(SSL_CTX_get_ex_data(SSL_get_SSL_CTX(ssl), ring_index()));
  if (ring == nullptr) return -1;
  const EVP_CIPHER* aes = EVP_aes_256_cbc();
  if (enc == 1) {
    const TicketKey& key = ring->current();
    if (RAND_bytes(iv, EVP_CIPHER_get_iv_length(aes)) != 1) return -1;
    std::memcpy(key_name, key.name.data(), key.name.size());
    if (EVP_EncryptInit_ex(cipher, aes, nullptr, key.aes.data(), iv) != 1) return -1;
    return set_mac_key(mac, key) ? 1 : -1;
  }
  const TicketKey* key = nullptr;
  const int found = ring->find(key_name, key);
  if (found == 0) return 0;
  if (!set_mac_key(mac, *key)) return -1;
  if (EVP_DecryptInit_ex(cipher, aes, nullptr, key->aes.data(), iv) != 1) return -1;
  return found;
}

}  // namespace

std::optional<TicketSecret> TicketSecret::generate() {
  TicketSecret secret;
  if (RAND_bytes(secret.bytes.data(), static_cast<int>(secret.bytes.size())) != 1)
    return std::nullopt;
  return secret;
}

std::string TicketSecret::to_hex() const {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string hex;
  hex.reserve(kBytes * 2);
  for (unsigned char b : bytes) {
    hex.push_back(kDigits[b >> 4]);
    hex.push_back(kDigits[b & 15]);
  }
  return hex;
}

std::optional<TicketSecret> TicketSecret::from_hex(std::string_view hex) {
  if (hex.size() != kBytes * 2) return std::nullopt;
  TicketSecret secret;
  for (std::size_t i = 0; i < kBytes; ++i) {
    const int high = hex_digit(hex[2 * i]);
    const int low = hex_digit(hex[2 * i + 1]);
    if (high < 0 || low < 0) return std::nullopt;
    secret.bytes[i] = static_cast<unsigned char>(high * 16 + low);
  }
  return secret;
}

TicketKey derive_ticket_key(const TicketSecret& secret, std::uint64_t period) {
  unsigned char input[kLabel.size() + 8 + 1];
  std::memcpy(input, kLabel.data(), kLabel.size());
  for (int i = 0; i < 8; ++i) {
    input[kLabel.size() + static_cast<std::size_t>(i)] =
        static_cast<unsigned char>(period >> (56 - 8 * i));
  }
  std::array<unsigned char, 3 * 32> blocks{};
  for (unsigned char i = 1; i <= 3; ++i) {
    input[sizeof input - 1] = i;
    unsigned int length = 32;
    HMAC(EVP_sha256(), secret.bytes.data(), static_cast<int>(secret.bytes.size()), input,
         sizeof input, blocks.data() + 32 * (i - 1), &length);
  }
  TicketKey key;
  auto at = blocks.begin();
  std::copy_n(at, key.name.size(), key.name.begin());
  at += static_cast<std::ptrdiff_t>(key.name.size());
  std::copy_n(at, key.hmac.size(), key.hmac.begin());
  at += static_cast<std::ptrdiff_t>(key.hmac.size());
  std::copy_n(at, key.aes.size(), key.aes.begin());
  return key;
}

TicketKeyRing::TicketKeyRing(const TicketSecret& secret, std::uint32_t rotation_seconds,
                             Clock clock)
    : secret_(secret),
      rotation_(std::max<std::uint32_t>(rotation_seconds, 1)),
      clock_(std::move(clock)) {
  if (!clock_) clock_ = [] { return static_cast<std::uint64_t>(std::time(nullptr)); };
}

void TicketKeyRing::refresh() {
  const std::uint64_t period = clock_() / rotation_;
  if (derived_ && period == period_) return;
  if (derived_ && period == period_ + 1) {
    previous_ = current_;
  } else {
    previous_ = derive_ticket_key(secret_, period - 1);
  }
  current_ = derive_ticket_key(secret_, period);
  period_ = period;
  derived_ = true;
}

const TicketKey& TicketKeyRing::current() {
  refresh();
  return current_;
}

int TicketKeyRing::find(const unsigned char* name, const TicketKey*& key) {
  refresh();
  if (std::memcmp(name, current_.name.data(), current_.name.size()) == 0) {
    key = &current_;
    return 1;
  }
  if (std::memcmp(name, previous_.name.data(), previous_.name.size()) == 0) {
    key = &previous_;
    return 2;
  }
  return 0;
}

bool TicketKeyRing::install(SSL_CTX* ctx) {
  if (ring_index() < 0 || SSL_CTX_set_ex_data(ctx, ring_index(), this) != 1) return false;
  SSL_CTX_set_timeout(ctx, static_cast<long>(2 * static_cast<std::uint64_t>(rotation_)));
  return SSL_CTX_set_tlsext_ticket_key_evp_cb(ctx, &on_ticket) == 1;
}

}  // namespace sb::net
