// StanzaFramer: cuts the byte stream an XMPP server sends into its parts: the
// <stream:stream> open tag, each complete top-level stanza (depth 1 element) as the
// exact bytes the server sent, and the closing </stream:stream>.
//
// It is incremental: feed() takes whatever a read returned, bytes of a stanza split
// anywhere (inside a tag, an attribute value, a CDATA section, a multi-byte UTF-8
// character) are kept until the stanza is complete. It builds no DOM; it tracks just
// enough lexical state (tags, quotes, comments, CDATA, PIs) to find element
// boundaries. Between stanzas it holds no buffer at all, and a stanza that arrives
// whole inside one read is copied exactly once, straight from the read buffer.
//
// What it accepts: an optional <?xml ...?> declaration, comments and processing
// instructions before the header and between stanzas (dropped), white space between
// stanzas (keepalives, dropped), and any prefix for the stream element (learnt from
// the header: <s:stream> closes with </s:stream>). What it rejects with
// framing_error: a DOCTYPE or any other markup declaration (XMPP forbids DTDs),
// character data or CDATA between stanzas, an element larger than max_stanza_bytes
// (detected before buffering past the limit), and tags that cannot be XML. It checks
// nesting by depth only: the server's XML parser is trusted for the rest.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
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
  // Feeds bytes; calls the sink for each part completed, in order. After
  // framing_error, and after stream_closed, the framer ignores further input until
  // reset(). The sink may call reset() from a callback (a stream restart): the rest
  // of the bytes are then read as the start of a new stream. It must not destroy the
  // framer from a callback.
  void feed(std::string_view bytes, FramerSink& sink);
  // Forget everything and release the buffer: a new stream starts (after STARTTLS or
  // SASL success). The stream's prefix is learnt again from the next header.
  void reset();

  // Bytes held for an element split across reads (0 between stanzas): for memory
  // accounting and tests.
  std::size_t buffered_bytes() const { return partial_size(); }

  // Moving a stream to another process (xmpp/link_record.hpp). A framer moves as
  // the name of its stream element and the bytes of the element it is in the
  // middle of; movable() says whether that is all there is to it: false before
  // the header, after the end or a failure, and inside a comment or processing
  // instruction it is dropping (its bytes are gone).
  bool movable() const { return depth_ >= 1 && !failed_ && !closed_ && (!in_unit_ || keep_unit_); }
  std::string_view stream_name() const { return close_name(); }
  std::string_view unfinished() const {
    return partial_ ? std::string_view(*partial_) : std::string_view();
  }
  // Continues a stream whose header was read elsewhere: between stanzas, inside
  // the stream element `stream_name`. Feed the moved framer's unfinished() next.
  void resume_open(std::string_view stream_name);

 private:
  enum class State : std::uint8_t;  // what the lexer is in the middle of (see .cpp)
  struct Scan;                      // one feed() call's view of its input (see .cpp)

  // A "unit" is one piece the framer hands out or drops: the stream header, a
  // stanza, the stream close tag (kept), or a comment / PI / XML declaration outside
  // any stanza (dropped). Its bytes are copied into partial_ only when a read ends in
  // the middle of it, and never beyond max_stanza_bytes_.
  void begin_unit(Scan& scan, std::size_t at);
  void drop_unit(Scan& scan);
  std::string take_unit(Scan& scan, std::size_t end);
  void end_unit(Scan& scan);
  bool fail(FramerSink& sink, std::string_view what);  // returns false: `return fail(...)`
  // A tag ended just before `end`; returns false if the framer failed. Its cases are
  // inline (see below) so that finish_tag stays one call per tag:
  bool finish_tag(Scan& scan, std::size_t end, FramerSink& sink);
  inline bool finish_close_tag(Scan& scan, std::size_t end, FramerSink& sink);  // up, or an end
  inline bool open_stream(Scan& scan, std::size_t end, FramerSink& sink);       // the header
  inline void emit_stanza(Scan& scan, std::size_t end, FramerSink& sink);       // a stanza
  void resume_content();

  // feed() is a loop that hands each group of lexer states to one of these steps; a
  // false return means feed() stops (a failure, or the end of the stream). Declared
  // inline and defined in the .cpp, the only place that calls them, so the compiler
  // folds them into feed(): the hot path stays one function.
  inline bool lex_outside(Scan& scan, std::size_t& i, FramerSink& sink);
  inline bool lex_lt(char c, Scan& scan, FramerSink& sink);
  inline bool lex_bang(char c, Scan& scan, FramerSink& sink);
  inline void skip_comment_or_cdata(const Scan& scan, std::size_t& i);
  inline void skip_pi(const Scan& scan, std::size_t& i);
  inline bool lex_tag(Scan& scan, std::size_t& i, FramerSink& sink);

  static constexpr std::string_view kStandardStreamName = "stream:stream";
  std::size_t partial_size() const { return partial_ ? partial_->size() : 0; }
  void append_partial(const char* begin, const char* end);
  std::string_view close_name() const;

  // Leftover bytes of an unfinished kept unit; null (no memory) between units.
  std::unique_ptr<std::string> partial_;
  // Qualified name of the stream element; null means "stream:stream".
  std::unique_ptr<std::string> close_name_;
  std::size_t max_stanza_bytes_;
  std::uint32_t depth_ = 0;  // 0: before the header, 1: between stanzas, 2+: inside one
  State state_;
  std::uint8_t sub_ = 0;  // progress through a multi-byte delimiter ("-->", "]]>" ...)
  char quote_ = 0;        // inside a tag: the quote of the open attribute value
  bool in_unit_ = false;
  bool keep_unit_ = false;  // the current unit's bytes are wanted
  bool failed_ = false;
  bool closed_ = false;  // </stream:stream> seen: the rest is ignored
  bool tag_is_close_ = false;
  bool tag_self_closing_ = false;  // last significant byte of the tag so far was '/'
};

}  // namespace sb::xml
