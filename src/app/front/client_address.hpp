// The real client address of a request behind front proxies.
//
// Behind nginx or a load balancer every connection comes from the proxy: per-
// address caps, logs and metrics would all name the proxy. A proxy says whom it
// serves in X-Forwarded-For (a comma-separated list, one address appended per
// hop) or Forwarded (RFC 7239: `for=` parameters, in the same order). Anyone can
// send those headers, so they are believed only from `trusted_proxies`, and only
// as far as the chain of trusted hops goes: reading the list from the right (the
// hop nearest to us), each address that is itself a trusted proxy passes the
// question on to the one before it; the first address that is not trusted is the
// client. An entry that is not an address (RFC 7239's "unknown" or an obfuscated
// "_name") stops the walk, and the last trusted hop stays the answer: nothing
// beyond it can be vouched for. X-Forwarded-For is used when both are sent.
//
// TrustedProxies is the parsed `trusted_proxies` list (net/address_blocks.hpp).
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "net/address_blocks.hpp"

namespace sb::app {

// The parsed `trusted_proxies` list.
using TrustedProxies = net::AddressBlocks;

// The client of a request that came from `peer` with these header values (empty
// if absent; repeated headers joined with ","): the rightmost untrusted address,
// or `peer` itself when it is not a trusted proxy or names nobody.
std::string client_address(std::string_view peer, std::string_view x_forwarded_for,
                           std::string_view forwarded, const TrustedProxies& trusted);

// One element (one hop) of an RFC 7239 Forwarded header: the raw values of its
// for=, proto= and host= parameters, empty when absent (names are
// case-insensitive; the last of a name wins). Views into the header.
struct ForwardedElement {
  std::string_view for_;
  std::string_view proto;
  std::string_view host;
};

// The elements of a Forwarded header, in order (oldest hop first).
std::vector<ForwardedElement> forwarded_elements(std::string_view forwarded);

// The address a `for=` value names ("[2001:db8::1]:80" -> "2001:db8::1"), or
// empty if it names none (absent, "unknown", an obfuscated identifier).
std::string forwarded_address(std::string_view for_value);

// The addresses of a Forwarded header's `for=` parameters, in order; an element
// without `for=` or with a non-address value gives an empty entry. Ports and
// brackets are removed ("[2001:db8::1]:80" -> "2001:db8::1").
std::vector<std::string> forwarded_for_addresses(std::string_view forwarded);

}  // namespace sb::app
