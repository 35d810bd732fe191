// Session-ticket keys of the HTTPS listener, rotated on a clock that every worker
// reads alike, so that a ticket issued by one worker resumes on any other and no
// ticket outlives two rotation periods.
//
// The supervisor makes one random TicketSecret at start (never written to disk,
// kept across reloads; it reaches the workers in their environment,
// app/worker_launch.hpp). Time is cut into periods of `tls_ticket_rotation`
// seconds, numbered floor(unix time / rotation). The key of period p is derived
// from the secret alone:
//
//   block(i) = HMAC-SHA256(secret, "switchboard ticket key" || p as 8 bytes
//              big-endian || i as one byte), i = 1, 2, 3
//   key name = the first 16 bytes, HMAC key = the next 32, AES-256 key = the next 32
//
// so workers agree on it without a word to each other, and a restarted worker
// picks up where the others are. A new ticket is sealed (AES-256-CBC, then
// HMAC-SHA256, as OpenSSL's own tickets) with the current period's key. A ticket
// is opened if its key name is the current period's or the previous one's; one
// of the previous period is also renewed (the client gets a new ticket with the
// current key); anything older, or unknown, is refused and the client makes a
// full handshake. The session lifetime is set to two periods to match.
//
// The clock is injectable for the tests. Workers' clocks are the same machine's.
#pragma once

#include <openssl/types.h>

#include <array>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>

namespace sb::net {

struct TicketSecret {
  static constexpr std::size_t kBytes = 32;
  std::array<unsigned char, kBytes> bytes{};

  // Fresh random bytes (RAND_bytes). nullopt only if the RNG fails.
  static std::optional<TicketSecret> generate();
  // As hex, and back (for handing it to worker processes). from_hex() returns
  // nullopt for anything but 64 hex digits.
  std::string to_hex() const;
  static std::optional<TicketSecret> from_hex(std::string_view hex);
};

struct TicketKey {
  std::array<unsigned char, 16> name{};
  std::array<unsigned char, 32> hmac{};
  std::array<unsigned char, 32> aes{};
};

// The key of `period` (above).
TicketKey derive_ticket_key(const TicketSecret& secret, std::uint64_t period);

class TicketKeyRing {
 public:
  using Clock = std::function<std::uint64_t()>;  // seconds since the epoch

  // `rotation_seconds` > 0. Without a clock, the wall clock.
  TicketKeyRing(const TicketSecret& secret, std::uint32_t rotation_seconds, Clock clock = {});

  std::uint32_t rotation_seconds() const { return rotation_; }
  // The key new tickets are sealed with.
  const TicketKey& current();
  // Which key opens a ticket named `name`: 1 (the current period's), 2 (the
  // previous one's: open it, and renew the ticket), 0 (none: full handshake).
  int find(const unsigned char* name, const TicketKey*& key);

  // Makes `ctx` seal and open its tickets with this ring (which must outlive it
  // and every connection made from it) and sets the session lifetime to two
  // periods. False if OpenSSL refuses.
  bool install(SSL_CTX* ctx);

 private:
  void refresh();

  TicketSecret secret_;
  std::uint32_t rotation_;
  Clock clock_;
  std::uint64_t period_ = 0;
  bool derived_ = false;
  TicketKey current_;
  TicketKey previous_;
};

}  // namespace sb::net
