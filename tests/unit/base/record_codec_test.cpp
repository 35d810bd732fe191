#include <doctest/doctest.h>

#include <cstdint>
#include <limits>
#include <string>

#include "base/record_codec.hpp"

using sb::base::RecordReader;
using sb::base::RecordWriter;

TEST_CASE("record codec: numbers and strings read back as written") {
  RecordWriter w;
  const std::uint64_t numbers[] = {
      0, 1, 127, 128, 300, 1u << 31, std::numeric_limits<std::uint64_t>::max()};
  for (std::uint64_t n : numbers) w.u64(n);
  w.text("");
  w.text("hello");
  w.boolean(true);
  w.raw("XY");
  RecordReader r(w.bytes());
  for (std::uint64_t n : numbers) CHECK(r.u64() == n);
  CHECK(r.text(10, "empty") == "");
  CHECK(r.text(10, "greeting") == "hello");
  CHECK(r.boolean());
  CHECK(r.raw(2, "mark") == "XY");
  CHECK(r.ok());
  CHECK(r.at_end());
}

TEST_CASE("record codec: small numbers take one byte, the largest ten") {
  RecordWriter w;
  w.u64(127);
  CHECK(w.bytes().size() == 1);
  w.u64(std::numeric_limits<std::uint64_t>::max());
  CHECK(w.bytes().size() == 11);
}

TEST_CASE("record codec: the first failure sticks, with what and why") {
  RecordWriter w;
  w.text("a long string");
  w.u64(5);
  RecordReader r(w.bytes());
  CHECK(r.text(4, "the name") == "");
  CHECK_FALSE(r.ok());
  CHECK(r.error() == "the name: it is longer than allowed");
  CHECK(r.u64() == 0);  // reads after a failure give nothing
  CHECK(r.error() == "the name: it is longer than allowed");
}

TEST_CASE("record codec: lengths beyond the bytes, cut numbers and overflows are refused") {
  RecordWriter lying;
  lying.u64(1'000'000);  // a length with 3 bytes behind it
  lying.raw("abc");
  RecordReader a(lying.bytes());
  CHECK(a.text(2'000'000, "the body").empty());
  CHECK(a.error() == "the body: the record ends inside it");

  const std::string cut_bytes("\x80\x80", 2);  // the reader views, not copies
  RecordReader cut(cut_bytes);
  cut.u64();
  CHECK(cut.error() == "a number: the record ends inside it");

  const std::string overflow_bytes = std::string(10, '\xff') + '\x01';
  RecordReader overflow(overflow_bytes);
  overflow.u64();
  CHECK(overflow.error() == "a number: it overflows 64 bits");

  RecordWriter w;
  w.u64(3);
  RecordReader range(w.bytes());
  CHECK(range.u64_at_most(2, "the state") == 0);
  CHECK(range.error() == "the state: its value is out of range");

  RecordWriter flag;
  flag.u64(2);
  RecordReader not_flag(flag.bytes());
  not_flag.boolean();
  CHECK_FALSE(not_flag.ok());
}
