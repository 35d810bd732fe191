// Journal: the keeper's records on disk, so that a crash of the whole daemon (the
// supervisor, its workers and keepers together: kill -9, an out-of-memory kill,
// a reboot) still leaves the next start knowing every session it had.
//
// It is the keeper's own write-behind log, never in a worker's way: the keeper
// appends the very update messages its worker sent (keeper_wire.hpp), as they
// were received, and writes what gathered in one write() per round of taking
// messages (keeper.cpp rests 10 ms between rounds, so a round holds many). The
// kernel has each write once write() returns, which is all a crash of the
// process needs; fdatasync() runs at most once per second, for a reboot.
//
// On disk: a header line, then records, each [u32 length][u32 CRC-32][message],
// little-endian. A crash mid-write leaves a torn last record, which the reader
// drops with everything after it: a safe gap (the newest changes of the last
// moment), never a half record taken as whole. When the log has grown well past
// what it describes, it is rewritten (compacted) as the keeper's current entries:
// written beside it, synced, renamed over it, so that either the old or the new
// file is there whole.
//
// Each keeper writes `keeper-<index>.<supervisor pid>.journal` in `state_dir`
// and holds an flock on it while it lives. A file of its index that nobody holds
// is a journal an earlier daemon left when it died without a clean stop; the
// keeper reads it at start (orphan_journals(), read_journal()) and removes it.
// A clean stop removes the daemon's journals.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace sb::app {

class Journal {
 public:
  static constexpr std::uint64_t kSyncMs = 1000;

  Journal() = default;
  ~Journal();
  Journal(const Journal&) = delete;
  Journal& operator=(const Journal&) = delete;

  // Creates (or empties) the journal at `path` and locks it; false with `error`.
  bool open(const std::string& path, std::string& error);
  bool is_open() const { return fd_ >= 0; }
  // A message, buffered until flush().
  void append(std::string_view message);
  // Writes what was appended (one write), and syncs when kSyncMs have passed
  // since the last sync. False when the disk refused (`error`): the journal is
  // closed then, and nothing more is written.
  bool flush(std::uint64_t now_ms, std::string& error);
  // The file's size, and how much of it is waiting to be written.
  std::uint64_t size() const { return size_ + pending_.size(); }
  // Replaces the whole file by `messages` (a compaction): written to a file
  // beside it, synced, renamed over it.
  bool rewrite(const std::vector<std::string>& messages, std::string& error);

  struct Counters {
    std::uint64_t records = 0;  // messages written
    std::uint64_t bytes = 0;    // bytes written, compactions included
    std::uint64_t syncs = 0;
    std::uint64_t rewrites = 0;  // compactions
  };
  const Counters& counters() const { return counters_; }

 private:
  void close_file();

  std::string path_;
  int fd_ = -1;
  std::uint64_t size_ = 0;
  std::string pending_;
  std::uint64_t last_sync_ms_ = 0;
  bool unsynced_ = false;
  Counters counters_;
};

// The bytes of `message` as one record (for a file of records of one's own).
std::string journal_record(std::string_view message);
// Every whole record of the journal at `path`, in order, stopping at the first
// torn or damaged one (`torn` says whether there was one). False with `error`
// when the file cannot be read or is not a journal.
bool read_journal(const std::string& path, std::vector<std::string>& messages, bool& torn,
                  std::string& error);
// The name of the journal keeper `index` of the supervisor `pid` writes.
std::string journal_name(std::uint32_t index, long pid);
// The journals in `dir` that no living keeper holds and that keeper `index` of
// `workers` reads: its own index's, and those of indexes this daemon no longer
// has (a crashed daemon with more workers), index j going to j % workers, which
// is also where a request for one of their sids is handed (app/handover).
// `own` (the file name this keeper writes: one its dead predecessor of the same
// daemon left, whose sessions are alive in the worker) is never among them.
// `workers` 0 (not known): this index's journals only.
std::vector<std::string> orphan_journals(const std::string& dir, std::uint32_t index,
                                         std::uint32_t workers, std::string_view own = {});
// The keeper index in a journal's file name ("keeper-3.812.journal": 3), or
// nullopt for any other name.
std::optional<std::uint32_t> journal_index(std::string_view name);

}  // namespace sb::app
