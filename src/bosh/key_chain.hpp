// KeyChain: XEP-0124 §15 key sequencing. The client picks a secret seed, computes
// K(1)=hex(SHA-1(seed)), K(i)=hex(SHA-1(K(i-1))) and reveals the chain backwards:
// `newkey`=K(n) on creation, then `key`=K(n-1), K(n-2)... so that only someone who
// knows the seed can produce the next key. A passive observer of an unencrypted
// session therefore cannot inject requests. Before the chain runs out the client
// sends `key` and a fresh `newkey` together (rekeying).
#pragma once

#include <string>
#include <string_view>

namespace sb::bosh {

class KeyChain {
 public:
  // No chain: every request is accepted.
  bool active() const { return !expected_.empty(); }
  // Creation request: newkey starts the chain (an empty newkey: no chain).
  void start(std::string_view newkey);
  // A request in rid order: checks `key` against the chain and advances it.
  // Returns false when the request must be refused (wrong or missing key).
  bool accept(const std::string* key, const std::string* newkey);
  // The hash the next key must match (lowercase hex; empty: no chain yet). A
  // chain started with it (start()) goes on where this one stands.
  const std::string& expected() const { return expected_; }

 private:
  std::string expected_;  // lowercase hex SHA-1 the next key must hash to
};

// Lowercase hex of SHA-1(text).
std::string sha1_hex(std::string_view text);

}  // namespace sb::bosh
