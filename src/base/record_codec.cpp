#include "base/record_codec.hpp"

namespace sb::base {

void RecordWriter::head(std::string_view mark, std::uint64_t version) {
  raw(mark);
  u64(version);
}

bool RecordReader::head(std::string_view mark, std::uint64_t newest, std::string_view what,
                        std::string_view a_what, std::string& error) {
  if (raw(mark.size(), "the record's mark") != mark) {
    error = "not " + std::string(a_what);
    return false;
  }
  const std::uint64_t version = u64();
  if (ok() && (version == 0 || version > newest)) {
    error = std::string(what) + " version " + std::to_string(version) +
            " is newer than this build reads (" + std::to_string(newest) + ")";
    return false;
  }
  return true;
}

bool RecordReader::end(std::string_view what, std::string& error) {
  if (ok() && !at_end()) fail("the record", "bytes follow its end");
  if (ok()) return true;
  error = "bad " + std::string(what) + ": " + this->error();
  return false;
}

void RecordWriter::u64(std::uint64_t value) {
  while (value >= 0x80) {
    out_.push_back(static_cast<char>((value & 0x7f) | 0x80));
    value >>= 7;
  }
  out_.push_back(static_cast<char>(value));
}

void RecordWriter::text(std::string_view bytes) {
  u64(bytes.size());
  out_.append(bytes);
}

std::uint64_t RecordReader::u64() {
  if (!ok()) return 0;
  std::uint64_t value = 0;
  for (unsigned shift = 0; shift < 64; shift += 7) {
    if (in_.empty()) {
      fail("a number", "the record ends inside it");
      return 0;
    }
    const auto byte = static_cast<unsigned char>(in_.front());
    in_.remove_prefix(1);
    // The tenth byte may only carry the top bit of a 64-bit value.
    if (shift == 63 && byte > 1) {
      fail("a number", "it overflows 64 bits");
      return 0;
    }
    value |= static_cast<std::uint64_t>(byte & 0x7f) << shift;
    if ((byte & 0x80) == 0) return value;
  }
  fail("a number", "it overflows 64 bits");
  return 0;
}

std::uint64_t RecordReader::u64_at_most(std::uint64_t max, const char* what) {
  const std::uint64_t value = u64();
  if (value > max) {
    fail(what, "its value is out of range");
    return 0;
  }
  return value;
}

std::string RecordReader::text(std::size_t max, const char* what) {
  const std::uint64_t size = u64();
  if (!ok()) return {};
  if (size > max) {
    fail(what, "it is longer than allowed");
    return {};
  }
  return std::string(raw(static_cast<std::size_t>(size), what));
}

std::string_view RecordReader::raw(std::size_t count, const char* what) {
  if (!ok()) return {};
  if (count > in_.size()) {
    fail(what, "the record ends inside it");
    return {};
  }
  std::string_view bytes = in_.substr(0, count);
  in_.remove_prefix(count);
  return bytes;
}

void RecordReader::fail(const char* what, const char* why) {
  if (!ok()) return;
  error_ = why;
  error_what_ = what;
  in_ = {};
}

std::string RecordReader::error() const {
  if (ok()) return {};
  return std::string(error_what_) + ": " + error_;
}

}  // namespace sb::base
