// HostPort: the "host:port" and "[v6]:port" addresses that appear in the
// configuration (listen, upstream, allowed_routes) and in the BOSH `route`
// attribute ("xmpp:host:port", read by engine/routing.hpp).
//
// Parsing lives here, at the bottom, because the same rules apply to a file line,
// a --set override, a command-line option and a client's route attribute; one
// function means one set of edge cases (missing port, port 0 or above 65535, an
// IPv6 address without brackets) and one set of tests. Nothing here resolves
// names: a host name is only checked for its characters; connecting is the
// upstream's business.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace sb::base {

struct HostPort {
  std::string host;        // a host name, an IPv4 literal, or an IPv6 literal without brackets
  std::uint16_t port = 0;  // 1..65535 once parsed

  bool is_ipv6_literal() const { return host.find(':') != std::string::npos; }
  // "host:port", or "[v6]:port" for IPv6 literals: parse_host_port's input form.
  std::string to_string() const;

  bool operator==(const HostPort&) const = default;
};

// Parses "host:port", "1.2.3.4:port" or "[v6]:port". On failure returns nullopt and,
// if `error` is given, stores a short reason without the offending text
// ("missing port", "port must be 1-65535", ...) so callers can add context.
std::optional<HostPort> parse_host_port(std::string_view text, std::string* error = nullptr);

// True if `name` has the shape of a DNS name: letters, digits, '-', '_' and dots,
// no empty label, at most 253 characters. Used for host names and XMPP domains.
bool is_valid_host_name(std::string_view name);

// True if `host` is an IPv4 or IPv6 literal (IPv6 without brackets): what a
// listening socket can bind without name resolution.
bool is_ip_literal(std::string_view host);

}  // namespace sb::base
