// The client side of an XMPP stream header: what switchboard sends to open (and
// re-open) a stream, and what it reads from the server's answer.
#pragma once

#include <string>
#include <string_view>

#include "engine/upstream.hpp"

namespace sb::xmpp {

// <?xml version='1.0'?><stream:stream to=... version=... xml:lang=... xmlns=...>
std::string opening_header(const engine::UpstreamTarget& target);
inline constexpr std::string_view kClosingTag = "</stream:stream>";

// Reads id, from and version out of the server's <stream:stream ...> open tag.
engine::StreamHeader read_server_header(std::string_view open_tag);

}  // namespace sb::xmpp
