// Escaping for the few places Switchboard writes XML text itself: attribute values of
// the <body/> wrappers it builds and text it puts inside elements (conditions, the
// stream header). Everything else the browser or the server sends travels as the
// exact bytes received and is never re-escaped.
//
// Both functions append to `out` so a caller can build a whole tag in one buffer.
#pragma once

#include <string>
#include <string_view>

namespace sb::xml {

// Escapes & < > ' " so the result is safe between either kind of quotes.
void append_escaped_attribute(std::string& out, std::string_view value);

// Escapes & < > (the '>' only matters in "]]>", but escaping it always is simpler
// and still well-formed).
void append_escaped_text(std::string& out, std::string_view text);

}  // namespace sb::xml
