// SASL for the stub (RFC 4616 PLAIN, RFC 4505 ANONYMOUS), reduced to what a test
// server needs: decode the client's initial response and name the user. Every
// password is accepted; nothing is checked against any store.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace sb::stub {

// Standard base64 (RFC 4648, '=' padding, whitespace ignored). nullopt when the
// text is not base64.
std::optional<std::string> decode_base64(std::string_view text);

struct PlainCredentials {
  std::string authzid;  // may be empty
  std::string authcid;  // the user name: the JID's local part
  std::string password;
};

// Splits a decoded PLAIN response "authzid\0authcid\0password". An authcid
// written as "user@domain" keeps only "user". nullopt when the response is not
// three NUL-separated parts or the user name cannot be a JID local part.
std::optional<PlainCredentials> parse_plain(std::string_view decoded);

// True when `local` can stand as a JID local part in the stub: not empty, at most
// 1023 bytes, and none of the bytes RFC 7622 forbids there (" & ' / : < > @ and
// controls, space). The stub is byte-exact: no case folding.
bool valid_local_part(std::string_view local);

}  // namespace sb::stub
