// StanzaFramer: a resumable lexer over server bytes. Each feed() walks its input once;
// the whole lexical state between reads is a handful of small members (state_, depth_,
// sub_, quote_ and flags), so a read may end on any byte. Hot paths (character data,
// attribute values, comment and CDATA bodies) jump with memchr.
//
// Ownership of bytes: while a unit (header, stanza, close tag) is being scanned, the
// framer only remembers where it started in the current input. If the input ends
// first, the unit's bytes so far move to partial_; the next feed() appends and, when
// the unit ends, moves partial_ out to the sink. So a unit inside one read is built
// from the read buffer with one copy, and between stanzas partial_ holds no memory:
// it is a pointer, null then, as is close_name_ for the usual "stream:stream", so an
// idle upstream link's framer is 40 bytes rather than two std::strings (88).
#include "xml/stanza_framer.hpp"

#include <cstring>
#include <limits>

#include "xml/chars.hpp"
#include "xml/open_tag.hpp"

namespace sb::xml {

enum class StanzaFramer::State : std::uint8_t {
  kOutside,    // depth 0 or 1 between units: white space, or the '<' that starts one
  kText,       // character data inside a stanza
  kLt,         // just after '<'
  kBang,       // just after "<!"
  kBangDash,   // just after "<!-"
  kBangCData,  // inside "<![CDATA[": sub_ bytes of "CDATA[" matched
  kComment,    // inside a comment: sub_ = number of trailing '-' (at most 2)
  kCData,      // inside a CDATA section: sub_ = number of trailing ']' (at most 2)
  kPI,         // inside a PI or the XML declaration: sub_ = 1 right after '?'
  kTag,        // inside an open or close tag
};

struct StanzaFramer::Scan {
  const char* data;
  std::size_t n;
  std::size_t unit_start;  // where the kept unit starts in data (0: in an earlier read)
  std::size_t stop;        // n, or where the kept unit would pass max_stanza_bytes_
};

namespace {

std::size_t offset_of(const void* found, const char* data) {
  return static_cast<std::size_t>(static_cast<const char*>(found) - data);
}

// Moves `i` just past the next `c` before `stop` and says true, or to `stop` and
// says false. memchr does the scanning: the hot loop of every state that waits
// for one byte.
bool skip_past(const char* data, std::size_t& i, std::size_t stop, char c) {
  const void* found = std::memchr(data + i, c, stop - i);
  if (found == nullptr) {
    i = stop;
    return false;
  }
  i = offset_of(found, data) + 1;
  return true;
}

}  // namespace

StanzaFramer::StanzaFramer(std::size_t max_stanza_bytes)
    : max_stanza_bytes_(max_stanza_bytes), state_(State::kOutside) {}

void StanzaFramer::reset() {
  partial_.reset();
  close_name_.reset();
  depth_ = 0;
  state_ = State::kOutside;
  sub_ = 0;
  quote_ = 0;
  in_unit_ = keep_unit_ = failed_ = closed_ = false;
  tag_is_close_ = tag_self_closing_ = false;
}

void StanzaFramer::begin_unit(Scan& scan, std::size_t at) {
  in_unit_ = keep_unit_ = true;
  scan.unit_start = at;
  scan.stop = max_stanza_bytes_ < scan.n - at ? at + max_stanza_bytes_ : scan.n;
}

void StanzaFramer::resume_open(std::string_view stream_name) {
  reset();
  if (stream_name != kStandardStreamName) close_name_ = std::make_unique<std::string>(stream_name);
  depth_ = 1;
}

std::string_view StanzaFramer::close_name() const {
  return close_name_ ? std::string_view(*close_name_) : kStandardStreamName;
}

void StanzaFramer::append_partial(const char* begin, const char* end) {
  if (begin == end) return;
  if (!partial_) partial_ = std::make_unique<std::string>();
  partial_->append(begin, end);
}

void StanzaFramer::drop_unit(Scan& scan) {
  keep_unit_ = false;
  partial_.reset();
  scan.stop = scan.n;
}

void StanzaFramer::end_unit(Scan& scan) {
  in_unit_ = keep_unit_ = false;
  scan.stop = scan.n;
}

std::string StanzaFramer::take_unit(Scan& scan, std::size_t end) {
  if (partial_size() == 0) return std::string(scan.data + scan.unit_start, end - scan.unit_start);
  partial_->append(scan.data, end);  // a unit continued from an earlier read starts at 0
  std::string unit = std::move(*partial_);
  partial_.reset();
  return unit;
}

bool StanzaFramer::fail(FramerSink& sink, std::string_view what) {
  failed_ = true;
  partial_.reset();
  sink.framing_error(what);
  return false;  // so that a lexer step can end with `return fail(...)`
}

// After a comment, PI or CDATA section: back to whatever surrounds it.
void StanzaFramer::resume_content() {
  if (depth_ <= 1) {
    in_unit_ = false;  // a dropped comment or PI was the whole unit
    state_ = State::kOutside;
  } else {
    state_ = State::kText;
  }
}

// A top-level element ended just before `end`: its bytes go to the sink whole, and
// the framer is between stanzas again.
void StanzaFramer::emit_stanza(Scan& scan, std::size_t end, FramerSink& sink) {
  std::string stanza = take_unit(scan, end);
  end_unit(scan);
  state_ = State::kOutside;
  sink.stanza(std::move(stanza));
}

// A close tag: one level up inside a stanza, the end of a stanza, or (between
// stanzas) the end of the stream, which must name the stream element.
bool StanzaFramer::finish_close_tag(Scan& scan, std::size_t end, FramerSink& sink) {
  if (depth_ > 1) {
    if (--depth_ > 1) {
      state_ = State::kText;
    } else {
      emit_stanza(scan, end, sink);
    }
    return true;
  }
  // A close tag between stanzas can only be the end of the stream.
  const std::string tag = take_unit(scan, end);
  end_unit(scan);
  std::string_view name = std::string_view(tag).substr(2, tag.size() - 3);
  while (!name.empty() && is_xml_space(name.back())) name.remove_suffix(1);
  if (name != close_name()) return fail(sink, "close tag that matches no open element");
  closed_ = true;
  sink.stream_closed();
  return true;
}

// The stream header: it names the stream element (learnt here, so that the close tag
// can be matched) and is handed to the sink. Its text may live in the input or in
// partial_; either way it is owned here for the duration of the callback.
bool StanzaFramer::open_stream(Scan& scan, std::size_t end, FramerSink& sink) {
  std::string owned;
  std::string_view header;
  if (partial_size() == 0) {
    header = std::string_view(scan.data + scan.unit_start, end - scan.unit_start);
  } else {
    owned = take_unit(scan, end);
    header = owned;
  }
  end_unit(scan);
  const std::string_view name = element_name(header);
  if (local_name_of(name) != "stream") {
    return fail(sink, "the stream does not start with a stream header");
  }
  if (name == kStandardStreamName) {
    close_name_.reset();
  } else {
    close_name_ = std::make_unique<std::string>(name);
  }
  depth_ = 1;
  state_ = State::kOutside;
  const bool closed_at_once = tag_self_closing_;
  sink.stream_opened(header);
  // The sink may have reset the framer (a restart): then the close is not for it.
  if (closed_at_once && depth_ == 1) {
    closed_ = true;
    sink.stream_closed();
  }
  return true;
}

bool StanzaFramer::finish_tag(Scan& scan, std::size_t end, FramerSink& sink) {
  if (tag_is_close_) return finish_close_tag(scan, end, sink);
  if (depth_ == 0) return open_stream(scan, end, sink);
  if (tag_self_closing_) {
    if (depth_ > 1) {
      state_ = State::kText;
    } else {
      emit_stanza(scan, end, sink);
    }
    return true;
  }
  if (depth_ == std::numeric_limits<std::uint32_t>::max()) {
    return fail(sink, "elements nested too deeply");
  }
  ++depth_;
  state_ = State::kText;
  return true;
}

// kOutside, between units: white space (keepalives) is skipped, a '<' begins the
// next unit, and anything else is not an XMPP stream.
bool StanzaFramer::lex_outside(Scan& scan, std::size_t& i, FramerSink& sink) {
  const char* const data = scan.data;
  while (i < scan.stop && is_xml_space(data[i])) ++i;
  if (i == scan.stop) return true;
  if (data[i] != '<') {
    return fail(sink,
                depth_ == 0 ? "text before the stream header" : "character data between stanzas");
  }
  begin_unit(scan, i);
  ++i;
  state_ = State::kLt;
  return true;
}

// kLt: the byte after '<' says what the markup is. A PI (or the XML declaration)
// outside any stanza is dropped, so its bytes are no longer kept.
bool StanzaFramer::lex_lt(char c, Scan& scan, FramerSink& sink) {
  if (c == '/' || is_name_start(c)) {
    if (c == '/' && depth_ == 0) return fail(sink, "close tag before the stream header");
    tag_is_close_ = c == '/';
    tag_self_closing_ = false;
    quote_ = 0;
    state_ = State::kTag;
  } else if (c == '!') {
    state_ = State::kBang;
  } else if (c == '?') {
    if (depth_ <= 1) drop_unit(scan);
    sub_ = 0;
    state_ = State::kPI;
  } else {
    return fail(sink, "'<' that starts no markup");
  }
  return true;
}

// kBang, kBangDash, kBangCData: one byte of "<!--" or "<![CDATA[". Anything else
// after "<!" is a markup declaration, which XMPP forbids; so is CDATA between
// stanzas. A comment outside any stanza is dropped.
bool StanzaFramer::lex_bang(char c, Scan& scan, FramerSink& sink) {
  static constexpr std::string_view kCDataRest = "CDATA[";
  switch (state_) {
    case State::kBang:
      if (c == '-') {
        state_ = State::kBangDash;
      } else if (c == '[') {
        if (depth_ <= 1) return fail(sink, "CDATA section between stanzas");
        sub_ = 0;
        state_ = State::kBangCData;
      } else if (c == 'D') {
        return fail(sink, "DOCTYPE is not allowed in XMPP");
      } else {
        return fail(sink, "markup declaration is not allowed in XMPP");
      }
      return true;
    case State::kBangDash:
      if (c != '-') return fail(sink, "malformed comment");
      if (depth_ <= 1) drop_unit(scan);
      sub_ = 0;
      state_ = State::kComment;
      return true;
    default:  // kBangCData
      if (c != kCDataRest[sub_]) return fail(sink, "malformed CDATA section");
      if (++sub_ == kCDataRest.size()) {
        sub_ = 0;
        state_ = State::kCData;
      }
      return true;
  }
}

// kComment, kCData: looking for "-->" or "]]>". sub_ counts the delimiter bytes just
// seen, so a delimiter split across reads is still found; memchr jumps to each
// candidate first byte.
void StanzaFramer::skip_comment_or_cdata(const Scan& scan, std::size_t& i) {
  const char delimiter = state_ == State::kComment ? '-' : ']';
  while (i < scan.stop) {
    if (sub_ == 0) {
      if (!skip_past(scan.data, i, scan.stop, delimiter)) break;
      sub_ = 1;
      continue;
    }
    const char c = scan.data[i++];
    if (c == delimiter) {
      sub_ = 2;
    } else if (c == '>' && sub_ == 2) {
      sub_ = 0;
      resume_content();
      break;
    } else {
      sub_ = 0;
    }
  }
}

// kPI: looking for "?>", sub_ = 1 right after a '?'.
void StanzaFramer::skip_pi(const Scan& scan, std::size_t& i) {
  while (i < scan.stop) {
    if (sub_ == 0) {
      if (!skip_past(scan.data, i, scan.stop, '?')) break;
      sub_ = 1;
      continue;
    }
    const char c = scan.data[i++];
    if (c == '>') {
      sub_ = 0;
      resume_content();
      break;
    }
    sub_ = c == '?' ? 1 : 0;
  }
}

// kTag, up to the tag's '>'. Quoted attribute values may hold '>' and '/': memchr
// jumps over them. Outside them, a '/' as the last significant byte before '>' makes
// the tag self-closing. After the '>', the stream's end stops feed() too: the rest of
// the input is ignored.
bool StanzaFramer::lex_tag(Scan& scan, std::size_t& i, FramerSink& sink) {
  const char* const data = scan.data;
  while (i < scan.stop) {
    if (quote_ != 0) {
      if (!skip_past(data, i, scan.stop, quote_)) break;
      quote_ = 0;
      continue;
    }
    const char c = data[i++];
    if (c == '>') return finish_tag(scan, i, sink) && !closed_ && !failed_;
    if (c == '"' || c == '\'') {
      quote_ = c;
      tag_self_closing_ = false;
    } else if (c == '<') {
      return fail(sink, "'<' inside a tag");
    } else if (!is_xml_space(c)) {
      tag_self_closing_ = c == '/';
    }
  }
  return true;
}

// The lexer's loop: each turn hands the bytes from i on to the step for the current
// state, which consumes what it can and may change the state. A unit that would pass
// max_stanza_bytes_ shows as scan.stop < scan.n.
void StanzaFramer::feed(std::string_view bytes, FramerSink& sink) {
  if (failed_ || closed_) return;
  Scan scan{bytes.data(), bytes.size(), 0, bytes.size()};
  if (in_unit_ && keep_unit_) {
    scan.stop = std::min(scan.n, max_stanza_bytes_ - partial_size());
  }
  const char* const data = scan.data;
  std::size_t i = 0;
  for (;;) {
    if (i >= scan.stop) {
      if (scan.stop == scan.n) break;
      fail(sink, "element larger than the stanza size limit");
      return;
    }
    bool go_on = true;
    switch (state_) {
      case State::kOutside: go_on = lex_outside(scan, i, sink); break;
      case State::kText:  // character data inside a stanza: on to the next '<'
        if (skip_past(data, i, scan.stop, '<')) state_ = State::kLt;
        break;
      case State::kLt: go_on = lex_lt(data[i++], scan, sink); break;
      case State::kBang:
      case State::kBangDash:
      case State::kBangCData: go_on = lex_bang(data[i++], scan, sink); break;
      case State::kComment:
      case State::kCData: skip_comment_or_cdata(scan, i); break;
      case State::kPI: skip_pi(scan, i); break;
      case State::kTag: go_on = lex_tag(scan, i, sink); break;
    }
    if (!go_on) return;
  }
  if (in_unit_ && keep_unit_) append_partial(data + scan.unit_start, data + scan.n);
}

}  // namespace sb::xml
