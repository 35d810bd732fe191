// InlineText: an immutable short string kept inside its owner, for the sid every
// Session carries.
//
// A sid (a worker prefix such as "w3." and 22 characters of base64url) is longer
// than std::string's 15-byte small-string buffer, so as a std::string it costs a
// 32-byte member plus a separate heap block (48 bytes with malloc's header) in
// every session, allocated in the middle of the session's creation-time garbage.
// InlineText keeps up to kInline characters in the object itself (48 bytes in
// all) and falls back to the heap only for longer text (a long node_id prefix).
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <memory>
#include <string_view>

namespace sb::base {

class InlineText {
 public:
  static constexpr std::size_t kInline = 36;

  explicit InlineText(std::string_view text) : size_(static_cast<std::uint32_t>(text.size())) {
    char* out = inline_;
    if (text.size() > kInline) {
      long_ = std::make_unique<char[]>(text.size());
      out = long_.get();
    }
    if (!text.empty()) std::memcpy(out, text.data(), text.size());
  }
  InlineText(const InlineText&) = delete;
  InlineText& operator=(const InlineText&) = delete;

  std::string_view view() const { return {long_ ? long_.get() : inline_, size_}; }

 private:
  std::unique_ptr<char[]> long_;  // null while the text fits inline
  std::uint32_t size_;
  char inline_[kInline] = {};
};

}  // namespace sb::base
