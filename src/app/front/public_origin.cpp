// The scheme and host the client used; see public_origin.hpp.
#include "app/front/public_origin.hpp"

#include <vector>

#include "app/front/header_text.hpp"  // trim_ows, plain_host
#include "base/ascii_case.hpp"

namespace sb::app {
namespace {

std::string_view unquote(std::string_view text) {
  text = trim_ows(text);
  if (text.size() >= 2 && text.front() == '"' && text.back() == '"')
    text = text.substr(1, text.size() - 2);
  return text;
}

// The last entry of a comma-separated list, trimmed.
std::string_view last_entry(std::string_view list) {
  const std::size_t comma = list.rfind(',');
  return trim_ows(comma == std::string_view::npos ? list : list.substr(comma + 1));
}

// "https" -> true, "http" -> false, anything else: no opinion (nullptr).
const bool* scheme_of(std::string_view proto) {
  static constexpr bool kSecure = true;
  static constexpr bool kPlain = false;
  proto = unquote(proto);
  if (base::equals_ignoring_case(proto, "https")) return &kSecure;
  if (base::equals_ignoring_case(proto, "http")) return &kPlain;
  return nullptr;
}

void take(PublicOrigin& origin, std::string_view proto, std::string_view host) {
  if (const bool* secure = scheme_of(proto)) origin.secure = *secure;
  if (!host.empty() && plain_host(host)) origin.host = std::string(host);
}

}  // namespace

PublicOrigin public_origin(bool tls, std::string_view peer, std::string_view x_forwarded_proto,
                           std::string_view x_forwarded_host, std::string_view forwarded,
                           const TrustedProxies* trusted) {
  PublicOrigin origin;
  origin.secure = tls;
  if (trusted == nullptr || !trusted->contains(peer)) return origin;
  if (!trim_ows(x_forwarded_proto).empty() || !trim_ows(x_forwarded_host).empty()) {
    take(origin, last_entry(x_forwarded_proto), last_entry(x_forwarded_host));
    return origin;
  }
  if (trim_ows(forwarded).empty()) return origin;
  const std::vector<ForwardedElement> elements = forwarded_elements(forwarded);
  // From the element our peer wrote outwards, while its writer is vouched for.
  for (std::size_t i = elements.size(); i-- > 0;) {
    take(origin, elements[i].proto, unquote(elements[i].host));
    if (!trusted->contains(forwarded_address(elements[i].for_))) break;
  }
  return origin;
}

}  // namespace sb::app
