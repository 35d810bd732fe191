// TagWalker: visits the tags of one complete element (raw bytes, as the framer cut
// it), skipping text, comments, CDATA sections and processing instructions, and says
// how deep each tag sits. The namespace fix-ups and the STARTTLS stripping use it to
// look inside a stanza with exact offsets, so they can splice the original bytes
// instead of re-serializing a DOM.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>

namespace sb::xml {

struct MarkupTag {
  enum class Kind : std::uint8_t { kOpen, kSelfClosing, kClose };
  Kind kind = Kind::kOpen;
  std::string_view text;   // from '<' to '>' inclusive
  std::size_t offset = 0;  // of the '<' in the walked element
  std::size_t depth = 0;   // depth of the element the tag belongs to; the top one is 1
};

class TagWalker {
 public:
  explicit TagWalker(std::string_view element) : text_(element) {}

  // Next tag; false at the end of the input or when it is malformed.
  bool next(MarkupTag& out);
  bool malformed() const { return malformed_; }

 private:
  std::string_view text_;
  std::size_t pos_ = 0;
  std::size_t depth_ = 0;
  bool malformed_ = false;
};

}  // namespace sb::xml
