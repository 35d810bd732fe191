// Parsing of "host:port" addresses; see host_port.hpp for why it is shared.
#include "base/host_port.hpp"

#include <arpa/inet.h>

#include <array>
#include <cctype>

#include "base/ascii_case.hpp"

namespace sb::base {
namespace {

bool set_error(std::string* error, std::string_view message) {
  if (error != nullptr) *error = std::string(message);
  return false;
}

// Host names are only checked for shape (see is_valid_host_name). '_' is
// tolerated because internal names sometimes carry it and rejecting them would
// help nobody.
bool valid_host_name(std::string_view host, std::string* error) {
  if (host.empty()) return set_error(error, "missing host");
  if (host.size() > 253) return set_error(error, "host name longer than 253 characters");
  char previous = '.';
  for (char c : host) {
    const bool ok =
        std::isalnum(static_cast<unsigned char>(c)) != 0 || c == '-' || c == '_' || c == '.';
    if (!ok) return set_error(error, "bad character in host name");
    if (c == '.' && previous == '.') return set_error(error, "empty label in host name");
    previous = c;
  }
  return true;
}

std::optional<std::uint16_t> parse_port(std::string_view text, std::string* error) {
  if (text.empty()) {
    set_error(error, "missing port");
    return std::nullopt;
  }
  unsigned value = 0;
  for (char c : text) {
    if (c < '0' || c > '9') {
      set_error(error, "port must be a number from 1 to 65535");
      return std::nullopt;
    }
    value = value * 10 + static_cast<unsigned>(c - '0');
    if (value > 65535) break;  // stop before overflow; reported below
  }
  if (value == 0 || value > 65535) {
    set_error(error, "port must be a number from 1 to 65535");
    return std::nullopt;
  }
  return static_cast<std::uint16_t>(value);
}

}  // namespace

std::string HostPort::to_string() const {
  std::string out;
  if (is_ipv6_literal()) {
    out.append("[").append(host).append("]");
  } else {
    out.append(host);
  }
  out.append(":").append(std::to_string(port));
  return out;
}

bool is_valid_host_name(std::string_view name) { return valid_host_name(name, nullptr); }

bool is_ip_literal(std::string_view host) {
  std::array<unsigned char, 16> scratch{};
  const std::string copy(host);  // inet_pton needs a NUL-terminated string
  return inet_pton(AF_INET, copy.c_str(), scratch.data()) == 1 ||
         inet_pton(AF_INET6, copy.c_str(), scratch.data()) == 1;
}

std::optional<HostPort> parse_host_port(std::string_view text, std::string* error) {
  std::string_view host;
  std::string_view port_text;
  bool bracketed = false;
  if (!text.empty() && text.front() == '[') {
    const auto close = text.find(']');
    if (close == std::string_view::npos) {
      set_error(error, "missing ']' after IPv6 address");
      return std::nullopt;
    }
    host = text.substr(1, close - 1);
    const std::string_view rest = text.substr(close + 1);
    if (rest.empty() || rest.front() != ':') {
      set_error(error, "missing port");
      return std::nullopt;
    }
    port_text = rest.substr(1);
    bracketed = true;
  } else {
    const auto colon = text.rfind(':');
    if (colon == std::string_view::npos) {
      set_error(error, "missing port");
      return std::nullopt;
    }
    host = text.substr(0, colon);
    if (host.find(':') != std::string_view::npos) {
      set_error(error, "an IPv6 address must be in brackets, like [::1]:5280");
      return std::nullopt;
    }
    port_text = text.substr(colon + 1);
  }

  if (bracketed) {
    std::array<unsigned char, 16> scratch{};
    const std::string copy(host);
    if (host.empty() || inet_pton(AF_INET6, copy.c_str(), scratch.data()) != 1) {
      set_error(error, "bad IPv6 address in brackets");
      return std::nullopt;
    }
  } else if (!valid_host_name(host, error)) {
    return std::nullopt;
  }
  const auto port = parse_port(port_text, error);
  if (!port) return std::nullopt;
  // Host names are case-insensitive; lower-casing once here lets every later
  // comparison (allowed_routes, per-domain upstreams) be a plain string compare.
  return HostPort{lowercase(host), *port};
}

}  // namespace sb::base
