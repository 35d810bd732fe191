// Journal, the keeper's log on disk: what is appended and flushed reads back in
// order; a torn or damaged last record is dropped with what follows it (a safe
// gap, never a half record); a rewrite replaces the whole file; a journal that
// a living keeper holds is not an orphan, one nobody holds is.
#include "app/keeper/journal.hpp"

#include <doctest/doctest.h>
#include <fcntl.h>
#include <stdlib.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <string>
#include <vector>

using sb::app::Journal;

namespace {
struct TempDir {
  TempDir() {
    char name[] = "/tmp/sb-journal-XXXXXX";
    REQUIRE(::mkdtemp(name) != nullptr);
    path = name;
  }
  ~TempDir() { std::filesystem::remove_all(path); }
  std::string path;
};

std::vector<std::string> read_back(const std::string& path, bool& torn) {
  std::vector<std::string> messages;
  std::string error;
  REQUIRE(sb::app::read_journal(path, messages, torn, error));
  return messages;
}
}  // namespace

TEST_CASE("appended messages read back in order once flushed") {
  TempDir dir;
  const std::string path = dir.path + "/" + sb::app::journal_name(0, 42);
  CHECK(path == dir.path + "/keeper-0.42.journal");
  Journal journal;
  std::string error;
  REQUIRE(journal.open(path, error));
  journal.append("first");
  journal.append(std::string("se\0cond", 7));
  bool torn = true;
  CHECK(read_back(path, torn).empty());  // not flushed yet
  REQUIRE(journal.flush(5000, error));
  journal.append("third");
  REQUIRE(journal.flush(5001, error));
  const auto messages = read_back(path, torn);
  CHECK_FALSE(torn);
  REQUIRE(messages.size() == 3);
  CHECK(messages[0] == "first");
  CHECK(messages[1] == std::string("se\0cond", 7));
  CHECK(messages[2] == "third");
  CHECK(journal.counters().records == 3);
  CHECK(journal.counters().syncs == 1);  // at most one per second
}

TEST_CASE("a torn or damaged last record is dropped, never read as whole") {
  TempDir dir;
  const std::string path = dir.path + "/keeper-1.7.journal";
  {
    Journal journal;
    std::string error;
    REQUIRE(journal.open(path, error));
    journal.append("kept");
    journal.append("the last, torn");
    REQUIRE(journal.flush(0, error));
  }
  const auto size = std::filesystem::file_size(path);
  std::filesystem::resize_file(path, size - 3);  // a crash in the middle of the write
  bool torn = false;
  auto messages = read_back(path, torn);
  CHECK(torn);
  REQUIRE(messages.size() == 1);
  CHECK(messages[0] == "kept");
  // A flipped byte in the last record: its CRC no longer matches.
  std::filesystem::resize_file(path, size);
  const int fd = ::open(path.c_str(), O_WRONLY);
  REQUIRE(fd >= 0);
  REQUIRE(::pwrite(fd, "X", 1, static_cast<off_t>(size - 2)) == 1);
  ::close(fd);
  messages = read_back(path, torn);
  CHECK(torn);
  CHECK(messages.size() == 1);
  std::string error;
  std::vector<std::string> none;
  CHECK_FALSE(sb::app::read_journal(dir.path + "/missing.journal", none, torn, error));
}

TEST_CASE("a rewrite replaces the whole file, and only an unheld journal is an orphan") {
  TempDir dir;
  const std::string path = dir.path + "/" + sb::app::journal_name(3, 100);
  Journal journal;
  std::string error;
  REQUIRE(journal.open(path, error));
  for (int i = 0; i < 50; ++i) journal.append("record " + std::to_string(i));
  REQUIRE(journal.flush(0, error));
  journal.append("appended before the rewrite");
  REQUIRE(journal.rewrite({"snapshot a", "snapshot b"}, error));
  journal.append("after");
  REQUIRE(journal.flush(0, error));
  bool torn = true;
  const auto messages = read_back(path, torn);
  CHECK_FALSE(torn);
  CHECK(messages == std::vector<std::string>{"snapshot a", "snapshot b", "after"});
  CHECK(journal.counters().rewrites == 1);
  CHECK_FALSE(std::filesystem::exists(path + ".new"));

  // Held by this (living) journal: not an orphan, and not opened twice.
  CHECK(sb::app::orphan_journals(dir.path, 3, 8).empty());
  Journal second;
  CHECK_FALSE(second.open(path, error));
  // Another index's file, held by nobody: an orphan of that index only.
  {
    Journal left;
    REQUIRE(left.open(dir.path + "/keeper-4.99.journal", error));
  }
  CHECK(sb::app::orphan_journals(dir.path, 4, 8) ==
        std::vector<std::string>{dir.path + "/keeper-4.99.journal"});
  CHECK(sb::app::orphan_journals(dir.path, 3, 8).empty());
  // A keeper's own file, left by its dead predecessor of the same daemon: not an orphan.
  CHECK(sb::app::orphan_journals(dir.path, 4, 8, "keeper-4.99.journal").empty());
  // With 3 workers now, index 4 is gone: its journal is keeper 1's (4 % 3), and
  // index 1's own orphans come too.
  {
    Journal left;
    REQUIRE(left.open(dir.path + "/keeper-1.98.journal", error));
  }
  auto for_one = sb::app::orphan_journals(dir.path, 1, 3);
  std::sort(for_one.begin(), for_one.end());
  CHECK(for_one == std::vector<std::string>{dir.path + "/keeper-1.98.journal",
                                            dir.path + "/keeper-4.99.journal"});
  CHECK(sb::app::orphan_journals(dir.path, 0, 3).empty());
  CHECK(sb::app::orphan_journals(dir.path, 1, 0) ==  // the count unknown: its own only
        std::vector<std::string>{dir.path + "/keeper-1.98.journal"});
  CHECK(sb::app::orphan_journals(dir.path, 2, 3).empty());
}

TEST_CASE("journal names: the keeper index is read back, anything else is not a journal") {
  CHECK(sb::app::journal_index(sb::app::journal_name(3, 812)) == 3u);
  CHECK(sb::app::journal_index("keeper-12.5.journal") == 12u);
  CHECK_FALSE(sb::app::journal_index("keeper-.5.journal"));
  CHECK_FALSE(sb::app::journal_index("keeper-x.5.journal"));
  CHECK_FALSE(sb::app::journal_index("keeper-3.journal.new"));
  CHECK_FALSE(sb::app::journal_index("other-3.5.journal"));
  CHECK_FALSE(sb::app::journal_index("keeper-12345678901.5.journal"));
}
