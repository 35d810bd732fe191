// Trusted proxies and the client address; see client_address.hpp.
#include "app/front/client_address.hpp"

#include <arpa/inet.h>

#include <algorithm>
#include <charconv>
#include <cstring>

#include "app/front/header_text.hpp"
#include "base/ascii_case.hpp"
#include "net/address_blocks.hpp"

namespace sb::app {
namespace {

bool is_ip(std::string_view text) {
  std::array<std::uint8_t, 16> bytes;
  return net::ip_bytes(text, bytes);
}

// One spelling per address ("2001:DB8::1" and "2001:db8:0::1" are one client for
// the per-address cap); IPv4-mapped IPv6 as IPv4.
std::string normal_ip(std::string_view text) {
  std::array<std::uint8_t, 16> bytes;
  bool v4 = false;
  if (!net::ip_bytes(text, bytes, &v4)) return std::string(text);
  const bool mapped =
      bytes[10] == 0xff && bytes[11] == 0xff &&
      std::all_of(bytes.begin(), bytes.begin() + 10, [](std::uint8_t b) { return b == 0; });
  char out[INET6_ADDRSTRLEN] = {};
  if (v4 || mapped) {
    inet_ntop(AF_INET, &bytes[12], out, sizeof out);
  } else {
    inet_ntop(AF_INET6, bytes.data(), out, sizeof out);
  }
  return out;
}

// One list element of X-Forwarded-For: an address, maybe with a port
// ("192.0.2.1:8080", "[2001:db8::1]:8080") which some proxies add.
std::string strip_port(std::string_view entry) {
  entry = trim_ows(entry);
  if (entry.size() >= 2 && entry.front() == '"' && entry.back() == '"') {
    entry = entry.substr(1, entry.size() - 2);
  }
  if (!entry.empty() && entry.front() == '[') {
    const std::size_t close = entry.find(']');
    return close == std::string_view::npos ? std::string()
                                           : std::string(entry.substr(1, close - 1));
  }
  const std::size_t colon = entry.find(':');
  if (colon != std::string_view::npos && entry.find(':', colon + 1) == std::string_view::npos) {
    return std::string(entry.substr(0, colon));  // IPv4 with a port
  }
  return std::string(entry);
}

std::vector<std::string> split_list(std::string_view list) {
  std::vector<std::string> out;
  while (!list.empty()) {
    const std::size_t comma = list.find(',');
    out.push_back(strip_port(list.substr(0, comma)));
    if (comma == std::string_view::npos) break;
    list.remove_prefix(comma + 1);
  }
  return out;
}

}  // namespace

std::vector<ForwardedElement> forwarded_elements(std::string_view forwarded) {
  std::vector<ForwardedElement> out;
  // Elements are separated by commas, parameters by semicolons; a quoted value
  // may hold neither that matters here (addresses, ports, schemes, plain
  // hosts), so a plain split is enough, and anything odd just yields no value.
  while (!forwarded.empty()) {
    const std::size_t comma = forwarded.find(',');
    std::string_view element = forwarded.substr(0, comma);
    forwarded.remove_prefix(comma == std::string_view::npos ? forwarded.size() : comma + 1);
    ForwardedElement parsed;
    while (!element.empty()) {
      const std::size_t semicolon = element.find(';');
      const std::string_view pair = trim_ows(element.substr(0, semicolon));
      element.remove_prefix(semicolon == std::string_view::npos ? element.size() : semicolon + 1);
      const std::size_t equals = pair.find('=');
      if (equals == std::string_view::npos) continue;
      const std::string_view name = pair.substr(0, equals);
      const std::string_view value = pair.substr(equals + 1);
      if (base::equals_ignoring_case(name, "for") && !value.empty()) parsed.for_ = value;
      if (base::equals_ignoring_case(name, "proto")) parsed.proto = value;
      if (base::equals_ignoring_case(name, "host")) parsed.host = value;
    }
    out.push_back(parsed);
  }
  return out;
}

std::string forwarded_address(std::string_view for_value) {
  std::string address = for_value.empty() ? std::string() : strip_port(for_value);
  return is_ip(address) ? address : std::string();
}

std::vector<std::string> forwarded_for_addresses(std::string_view forwarded) {
  std::vector<std::string> out;
  for (const ForwardedElement& element : forwarded_elements(forwarded))
    out.push_back(forwarded_address(element.for_));
  return out;
}

std::string client_address(std::string_view peer, std::string_view x_forwarded_for,
                           std::string_view forwarded, const TrustedProxies& trusted) {
  if (!trusted.contains(peer)) return std::string(peer);
  std::vector<std::string> hops;
  if (!trim_ows(x_forwarded_for).empty()) {
    hops = split_list(x_forwarded_for);
  } else if (!trim_ows(forwarded).empty()) {
    hops = forwarded_for_addresses(forwarded);
  }
  std::string client(peer);
  for (auto hop = hops.rbegin(); hop != hops.rend(); ++hop) {
    if (!is_ip(*hop)) break;  // "unknown", garbage: nothing beyond can be vouched for
    client = normal_ip(*hop);
    if (!trusted.contains(*hop)) break;
  }
  return client;
}

}  // namespace sb::app
