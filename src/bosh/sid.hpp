// Session ids: a short routing prefix followed by 128 bits from OpenSSL's
// RAND_bytes in base64url (22 characters). The prefix lets a worker or an L7
// router find the owner without a shared lookup; the random part makes sids
// unguessable, which is what protects a session whose requests are not signed.
#pragma once

#include <string>
#include <string_view>

namespace sb::bosh {

inline constexpr std::size_t kSidRandomChars = 22;
inline constexpr std::size_t kMaxSidPrefix = 16;

// Returns prefix + 22 random base64url characters, or an empty string if the
// random generator failed (then no session may be created).
std::string make_sid(std::string_view prefix);

}  // namespace sb::bosh
