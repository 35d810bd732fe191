// Escaping: copy runs of harmless bytes in one append and replace the handful of
// special characters with their predefined entities. Multi-byte UTF-8 passes through
// untouched, because no UTF-8 continuation byte can look like an ASCII special.
#include "xml/escape.hpp"

namespace sb::xml {
namespace {

// Shared loop: `escape_quotes` adds ' and " to the set of bytes to replace.
void append_escaped(std::string& out, std::string_view in, bool escape_quotes) {
  std::size_t run_start = 0;
  for (std::size_t i = 0; i < in.size(); ++i) {
    std::string_view entity;
    switch (in[i]) {
      case '&': entity = "&amp;"; break;
      case '<': entity = "&lt;"; break;
      case '>': entity = "&gt;"; break;
      case '\'':
        if (escape_quotes) entity = "&apos;";
        break;
      case '"':
        if (escape_quotes) entity = "&quot;";
        break;
      default: break;
    }
    if (entity.empty()) continue;
    out.append(in.data() + run_start, i - run_start);
    out.append(entity);
    run_start = i + 1;
  }
  out.append(in.data() + run_start, in.size() - run_start);
}

}  // namespace

void append_escaped_attribute(std::string& out, std::string_view value) {
  append_escaped(out, value, true);
}

void append_escaped_text(std::string& out, std::string_view text) {
  append_escaped(out, text, false);
}

}  // namespace sb::xml
