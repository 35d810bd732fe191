// TlsMode: whether the link to the XMPP server uses TLS (config `upstream_tls`).
// A header of its own so the app layer's Config can hold the value without
// pulling in the link.
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>

namespace sb::xmpp {

enum class TlsMode : std::uint8_t {
  kAuto,      // STARTTLS when the server offers it, plain text otherwise
  kRequired,  // STARTTLS, and a server that does not offer it is a failure
  kOff,       // never; a server that requires TLS is a failure
  kDirect,    // TLS from the first byte (XEP-0368 "direct TLS", usually port 5223)
};

// "auto", "required", "off", "direct": the config file's spelling.
constexpr std::string_view tls_mode_name(TlsMode mode) {
  switch (mode) {
    case TlsMode::kAuto: return "auto";
    case TlsMode::kRequired: return "required";
    case TlsMode::kOff: return "off";
    case TlsMode::kDirect: return "direct";
  }
  return "auto";
}

constexpr std::optional<TlsMode> tls_mode_from_name(std::string_view name) {
  for (TlsMode mode : {TlsMode::kAuto, TlsMode::kRequired, TlsMode::kOff, TlsMode::kDirect}) {
    if (tls_mode_name(mode) == name) return mode;
  }
  return std::nullopt;
}

}  // namespace sb::xmpp
