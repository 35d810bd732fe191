// The lexical pre-scan of a client's <body/> bytes, run before pugixml parses them.
// It finds what pugixml would let through silently: a DOCTYPE (pugixml can skip one),
// references to entities other than the five predefined ones (pugixml leaves them as
// text; XEP-0124 forbids them), numeric references to characters XML does not allow,
// '<' inside attribute values, text or a second element outside the root (pugixml
// drops those silently), and nesting deeper than the limit (checked here so a hostile
// body is rejected before any DOM is built for it).
#pragma once

#include <cstddef>
#include <string_view>

#include "xml/body_parser.hpp"

namespace sb::xml {

// kNone, kNotXml, kDoctype, kEntity or kTooDeep. The bytes are already known to be
// valid UTF-8 XML characters (check_xml_text).
BodyError prescan_body(std::string_view bytes, std::size_t max_depth);

}  // namespace sb::xml
