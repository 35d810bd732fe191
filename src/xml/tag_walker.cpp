// The walker's lexer: find the next '<', then either skip a comment / CDATA / PI
// whole or read a tag to its '>' (quotes respected, since attribute values may
// contain '>').
#include "xml/tag_walker.hpp"

#include "xml/chars.hpp"

namespace sb::xml {

bool TagWalker::next(MarkupTag& out) {
  if (malformed_) return false;
  const auto fail = [this] {
    malformed_ = true;
    return false;
  };
  const auto skip_past = [this](std::size_t from, std::string_view terminator) {
    const std::size_t at = text_.find(terminator, from);
    if (at == std::string_view::npos) return false;
    pos_ = at + terminator.size();
    return true;
  };
  while (true) {
    const std::size_t lt = text_.find('<', pos_);
    if (lt == std::string_view::npos) return false;
    const std::string_view rest = text_.substr(lt);
    if (rest.starts_with("<!--")) {
      if (!skip_past(lt + 4, "-->")) return fail();
      continue;
    }
    if (rest.starts_with("<![CDATA[")) {
      if (!skip_past(lt + 9, "]]>")) return fail();
      continue;
    }
    if (rest.starts_with("<?")) {
      if (!skip_past(lt + 2, "?>")) return fail();
      continue;
    }
    if (rest.size() < 2) return fail();
    const bool closing = rest[1] == '/';
    if (!closing && !is_name_start(rest[1])) return fail();
    // Find the '>' that ends the tag, stepping over quoted attribute values.
    std::size_t pos = lt + 1;
    for (;;) {
      if (pos >= text_.size()) return fail();
      const char c = text_[pos];
      if (c == '>') break;
      if (c == '\'' || c == '"') {
        const std::size_t quote_end = text_.find(c, pos + 1);
        if (quote_end == std::string_view::npos) return fail();
        pos = quote_end;
      }
      ++pos;
    }
    out.text = text_.substr(lt, pos + 1 - lt);
    out.offset = lt;
    pos_ = pos + 1;
    if (closing) {
      if (depth_ == 0) return fail();
      out.kind = MarkupTag::Kind::kClose;
      out.depth = depth_--;
    } else if (text_[pos - 1] == '/') {
      out.kind = MarkupTag::Kind::kSelfClosing;
      out.depth = depth_ + 1;
    } else {
      out.kind = MarkupTag::Kind::kOpen;
      out.depth = ++depth_;
    }
    return true;
  }
}

}  // namespace sb::xml
