// fuzz_framer: xml::StanzaFramer on hostile server bytes.
//
// The same stream is framed three times: in one feed(), one byte per feed() (for
// inputs up to 4 KiB), and cut at a few points chosen by the input. Framing must
// not depend on where reads end, so the three event lists must be identical. Each
// run also checks what a sink may rely on: a header or stanza is a run of the input
// bytes, in input order, starting with '<' and ending with '>'; no stanza exceeds
// the size limit; nothing follows an error or the stream close (until reset());
// and the framer never buffers more than the limit, nor anything between stanzas.
//
// Input: byte 0 = options (bits 0-1: size limit 64 B / 256 B / 4 KiB / 1 MiB;
// bit 2: reset() the framer from inside the callback for <success/> and <proceed/>,
// as the upstream link does on a stream restart), byte 1 = seed of the cut
// points, the rest = the bytes the server sent.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "support/check.hpp"
#include "xml/stanza_framer.hpp"

namespace {

using sb::xml::StanzaFramer;

struct Options {
  std::size_t limit;
  bool reset_on_restart;
};

class Recorder final : public sb::xml::FramerSink {
 public:
  Recorder(StanzaFramer& framer, std::string_view input, const Options& options)
      : framer_(framer), input_(input), options_(options) {}

  void stream_opened(std::string_view open_tag) override {
    check_unit(open_tag);
    events.push_back("open:" + std::string(open_tag));
  }
  void stanza(std::string&& bytes) override {
    check_unit(bytes);
    FUZZ_CHECK(bytes.size() <= options_.limit, "stanza over the limit: " + bytes);
    FUZZ_CHECK(framer_.buffered_bytes() == 0, "bytes still buffered when a stanza is out");
    events.push_back("stanza:" + bytes);
    if (options_.reset_on_restart &&
        (bytes.rfind("<success", 0) == 0 || bytes.rfind("<proceed", 0) == 0)) {
      framer_.reset();
      events.emplace_back("reset");
      ended_ = false;
    }
  }
  void stream_closed() override {
    FUZZ_CHECK(!ended_, "stream_closed() after the end");
    ended_ = true;
    events.emplace_back("close");
  }
  void framing_error(std::string_view what) override {
    FUZZ_CHECK(!ended_, "framing_error() after the end");
    FUZZ_CHECK(framer_.buffered_bytes() == 0, "a failed framer keeps its buffer");
    ended_ = true;
    events.push_back("error:" + std::string(what));
  }

  std::vector<std::string> events;

 private:
  // A header or stanza: '<' ... '>', exactly the next such run of input bytes.
  void check_unit(std::string_view unit) {
    FUZZ_CHECK(!ended_, "an event after the end of the stream");
    FUZZ_CHECK(unit.size() >= 2 && unit.front() == '<' && unit.back() == '>', unit);
    const std::size_t at = input_.find(unit, searched_);
    FUZZ_CHECK(at != std::string_view::npos, "a unit that is not a run of the input, in order");
    searched_ = at + unit.size();
  }

  StanzaFramer& framer_;
  std::string_view input_;
  const Options& options_;
  std::size_t searched_ = 0;
  bool ended_ = false;
};

// Frames `input` fed as the pieces that end at each of `cuts` (ascending) and at
// the end of the input.
std::vector<std::string> frame(std::string_view input, const std::vector<std::size_t>& cuts,
                               const Options& options) {
  StanzaFramer framer(options.limit);
  Recorder recorder(framer, input, options);
  std::size_t at = 0;
  const auto feed_to = [&](std::size_t end) {
    if (end <= at) return;
    framer.feed(input.substr(at, end - at), recorder);
    FUZZ_CHECK(framer.buffered_bytes() <= options.limit,
               "buffered " + std::to_string(framer.buffered_bytes()) + " bytes");
    at = end;
  };
  for (const std::size_t cut : cuts) feed_to(cut);
  feed_to(input.size());
  return recorder.events;
}

void check_same(const std::vector<std::string>& expected, const std::vector<std::string>& got,
                const char* how) {
  if (expected == got) return;
  std::string detail = std::string(how) + " differs from one feed:";
  for (std::size_t i = 0; i < std::max(expected.size(), got.size()); ++i) {
    detail += "\n  [" + std::to_string(i) + "] " + (i < expected.size() ? expected[i] : "-") +
              "  |  " + (i < got.size() ? got[i] : "-");
  }
  FUZZ_CHECK(expected == got, detail);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < 2) return 0;
  static constexpr std::size_t kLimits[] = {64, 256, 4096, 1 << 20};
  const Options options{kLimits[data[0] & 3u], (data[0] & 4u) != 0};
  std::uint32_t seed = data[1];
  const std::string_view input(reinterpret_cast<const char*>(data + 2), size - 2);

  const std::vector<std::string> whole = frame(input, {}, options);

  if (input.size() <= 4096) {
    std::vector<std::size_t> every;
    for (std::size_t i = 1; i < input.size(); ++i) every.push_back(i);
    check_same(whole, frame(input, every, options), "one byte per feed()");
  }

  if (!input.empty()) {
    std::vector<std::size_t> cuts;
    const std::size_t count = 1 + seed % 8;
    std::size_t at = 0;
    for (std::size_t i = 0; i < count; ++i) {
      seed = seed * 1103515245u + 12345u;  // a small LCG: the cuts only need to vary
      at += 1 + (seed >> 8) % (input.size() / count + 1);
      if (at >= input.size()) break;
      cuts.push_back(at);
    }
    check_same(whole, frame(input, cuts, options), "cut feeding");
  }
  return 0;
}
