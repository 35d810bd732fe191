// Small text helpers for HTTP header values the app layer reads itself
// (Host, X-Forwarded-*, Forwarded): optional white space trimmed, a Host value
// checked, without copies. Names compare with base::equals_ignoring_case.
#pragma once

#include <cstddef>
#include <string_view>

namespace sb::app {

// `text` without the spaces and tabs around it (RFC 9110's OWS).
inline std::string_view trim_ows(std::string_view text) {
  while (!text.empty() && (text.front() == ' ' || text.front() == '\t')) text.remove_prefix(1);
  while (!text.empty() && (text.back() == ' ' || text.back() == '\t')) text.remove_suffix(1);
  return text;
}

// Whether a Host header value is a plain host[:port] (name, IPv4 or [IPv6]): safe
// to echo into a URL, a JSON string or an XML attribute.
inline bool plain_host(std::string_view host) {
  if (host.empty() || host.size() > 255) return false;
  for (char c : host) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                    c == '.' || c == '-' || c == ':' || c == '[' || c == ']';
    if (!ok) return false;
  }
  return true;
}

}  // namespace sb::app
