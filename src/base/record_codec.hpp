// RecordWriter / RecordReader: the byte layout of the records that carry a
// session's state out of its process (to the next binary on an upgrade, later to
// a file that outlives a crash).
//
// A record is read by another build than the one that wrote it, possibly from
// bytes that were cut short or damaged, so the reader trusts nothing: every read
// is bounds-checked, a length can never ask for more than what is left, and the
// first failure sticks (later reads return zeros and empty strings) with a reason
// for the log, so a decoder reads its fields straight through and checks once at
// the end. Integers are unsigned LEB128 varints (a session's numbers are mostly
// small: seconds, counts, rids that fit 48 bits), strings a varint length and
// the bytes. No alignment, no host byte order: the same bytes on every machine.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace sb::base {

class RecordWriter {
 public:
  // A record's head: its four-byte mark, then its format version.
  void head(std::string_view mark, std::uint64_t version);
  void u64(std::uint64_t value);
  void boolean(bool value) { u64(value ? 1 : 0); }
  void text(std::string_view bytes);
  // Bytes as they are, with no length: the caller's layout says how many.
  void raw(std::string_view bytes) { out_.append(bytes); }
  const std::string& bytes() const { return out_; }
  std::string take() { return std::move(out_); }

 private:
  std::string out_;
};

class RecordReader {
 public:
  explicit RecordReader(std::string_view bytes) : in_(bytes) {}
  // A record's head (RecordWriter::head). False, with `error`, for another mark
  // ("not <a_what>") or a version this build does not read ("<what> version N
  // is newer than this build reads (M)"): `what` names the record ("BOSH session
  // record"), `a_what` with its article.
  bool head(std::string_view mark, std::uint64_t newest, std::string_view what,
            std::string_view a_what, std::string& error);
  // After the last field: false, with `error` ("bad <what>: ..."), if a read
  // failed or bytes follow the record's end.
  bool end(std::string_view what, std::string& error);
  std::uint64_t u64();
  // A varint that must be at most `max` (a count, an enum, a port).
  std::uint64_t u64_at_most(std::uint64_t max, const char* what);
  bool boolean() { return u64_at_most(1, "a flag") != 0; }
  // A string of at most `max` bytes.
  std::string text(std::size_t max, const char* what);
  std::string_view raw(std::size_t count, const char* what);

  bool ok() const { return error_ == nullptr; }
  bool at_end() const { return in_.empty(); }
  std::size_t left() const { return in_.size(); }
  // The first failure ("" while none): what was being read and why it failed.
  std::string error() const;
  // Marks the record bad (a value out of range that only the caller can see).
  void fail(const char* what, const char* why);

 private:
  std::string_view in_;
  const char* error_ = nullptr;
  const char* error_what_ = nullptr;
};

}  // namespace sb::base
