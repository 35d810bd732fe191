// Small readers over the raw bytes of one element: its qualified name, and the
// attributes of its first (open) tag. They exist so the fix-ups and the xmpp layer can
// look at a stanza the server sent without building a DOM and without copying it: the
// bytes keep flowing to the browser exactly as received.
//
// They expect well-formed input (the framer already cut it on element boundaries) but
// never read out of bounds on garbage: a malformed tag simply yields no attributes.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

namespace sb::xml {

// "stream:features" -> "stream"; "iq" -> "".
std::string_view prefix_of(std::string_view qualified_name);
// "stream:features" -> "features"; "iq" -> "iq".
std::string_view local_name_of(std::string_view qualified_name);

// Qualified name of the first tag of `element` ("" if it does not start with a tag).
// Leading whitespace is skipped.
std::string_view element_name(std::string_view element);

// Value of the attribute written exactly as `qualified_name` on the first tag of
// `open_tag` (a lone open tag or a whole element), with character and predefined
// entity references decoded. nullopt if absent or if the tag is malformed.
std::optional<std::string> find_attribute(std::string_view open_tag,
                                          std::string_view qualified_name);

// Decodes &amp; &lt; &gt; &apos; &quot; and &#N; / &#xH; references. Anything else
// that looks like a reference (or a numeric one naming no legal character) is kept
// as written: this never expands custom entities.
std::string decode_references(std::string_view raw);

// One attribute as written in a tag.
struct RawAttribute {
  std::string_view name;       // qualified name, e.g. "xmlns:stream"
  std::string_view raw_value;  // between the quotes, references not decoded
  std::size_t begin = 0;       // offset of the name in the text given to the cursor
  std::size_t end = 0;         // offset one past the closing quote
};

// Walks the attributes of the first tag of some text, allocation free:
//   AttributeCursor tag(bytes);
//   for (RawAttribute a; tag.next(a);) { ... }
//   if (tag.malformed()) { ... }
class AttributeCursor {
 public:
  explicit AttributeCursor(std::string_view text);

  // The tag's qualified name; empty (and malformed()) when the text is not a tag.
  std::string_view name() const { return name_; }
  // Offset one past the name: where a new attribute can be inserted.
  std::size_t name_end() const { return name_end_; }

  // Next attribute; false at the end of the tag or on malformed input.
  bool next(RawAttribute& out);

  bool malformed() const { return malformed_; }
  // Valid once next() returned false and !malformed(): offset one past the '>' ...
  std::size_t tag_end() const { return tag_end_; }
  // ... and whether the tag ended with "/>".
  bool self_closing() const { return self_closing_; }

 private:
  std::string_view text_;
  std::string_view name_;
  std::size_t pos_ = 0;
  std::size_t name_end_ = 0;
  std::size_t tag_end_ = 0;
  bool malformed_ = false;
  bool done_ = false;
  bool self_closing_ = false;
};

}  // namespace sb::xml
