// StanzaFramer: cuts the byte stream an XMPP server sends into its parts: the
// <stream:stream> open tag, each complete top-level stanza (depth 1 element) as the
// exact bytes the server sent, and the closing </stream:stream>.
//
// It is incremental: feed() takes whatever a read returned, bytes of a stanza split
// anywhere (inside a tag, an attribute value, a CDATA section, a multi-byte UTF-8
// character) are kept until the stanza is complete. It builds no DOM; it tracks just
// enough lexical state (tags, quotes, comments, CDATA, PIs) to find element
// boundaries. Between stanzas it holds no buffer at all.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace sb::xml {

class FramerSink {
 public:
  // The stream header: the whole <stream:stream ...> open tag.
  virtual void stream_opened(std::string_view open_tag) = 0;
  // One complete top-level element, exactly as received (moved out to the caller).
  virtual void stanza(std::string&& bytes) = 0;
  // </stream:stream> seen.
  virtual void stream_closed() = 0;
  // Not XML, a stanza over the size limit, or a stream that is not a stream.
  virtual void framing_error(std::string_view what) = 0;

 protected:
  ~FramerSink() = default;
};

class StanzaFramer {
 public:
  explicit StanzaFramer(std::size_t max_stanza_bytes = 1 << 20);
  // Feeds bytes; calls the sink for each part completed. After framing_error the
  // framer ignores further input until reset().
  void feed(std::string_view bytes, FramerSink& sink);
  // Forget everything: a new stream starts (after STARTTLS or SASL success).
  void reset();

 private:
  // Implementation state (see .cpp). Kept small: an idle framer is a few words.
  std::string partial_;  // bytes of the element not yet complete; empty between stanzas
  std::size_t max_stanza_bytes_;
  std::uint32_t depth_ = 0;
  std::uint8_t state_ = 0;
  std::uint8_t sub_ = 0;
  char quote_ = 0;
  bool failed_ = false;
  bool tag_is_close_ = false;
  bool tag_self_closing_ = false;
};

}  // namespace sb::xml
