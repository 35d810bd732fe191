// The keeper's write-behind log on disk; see journal.hpp.
#include "app/keeper/journal.hpp"

#include <dirent.h>
#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include <cerrno>
#include <cstring>

namespace sb::app {
namespace {
constexpr std::string_view kHeader = "switchboard keeper journal 1\n";
constexpr std::uint32_t kMaxRecord = 1u << 24;  // far above a keeper packet (160 KiB)

void put_u32(std::string& out, std::uint32_t v) {
  for (int i = 0; i < 4; ++i) out.push_back(static_cast<char>((v >> (8 * i)) & 0xff));
}

std::uint32_t get_u32(const char* p) {
  std::uint32_t v = 0;
  for (int i = 3; i >= 0; --i) v = (v << 8) | static_cast<unsigned char>(p[i]);
  return v;
}

std::uint32_t crc_of(std::string_view bytes) {
  return static_cast<std::uint32_t>(
      crc32(0, reinterpret_cast<const Bytef*>(bytes.data()), static_cast<uInt>(bytes.size())));
}

bool write_all(int fd, std::string_view bytes, std::string& error) {
  while (!bytes.empty()) {
    const ssize_t n = ::write(fd, bytes.data(), bytes.size());
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      error = std::string("write: ") + std::strerror(errno);
      return false;
    }
    bytes.remove_prefix(static_cast<std::size_t>(n));
  }
  return true;
}

bool read_all(const std::string& path, std::string& out, std::string& error) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    error = path + ": " + std::strerror(errno);
    return false;
  }
  char buffer[1 << 16];
  for (;;) {
    const ssize_t n = ::read(fd, buffer, sizeof buffer);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      error = path + ": " + std::strerror(errno);
      ::close(fd);
      return false;
    }
    if (n == 0) break;
    out.append(buffer, static_cast<std::size_t>(n));
  }
  ::close(fd);
  return true;
}
}  // namespace

std::string journal_record(std::string_view message) {
  std::string out;
  out.reserve(8 + message.size());
  put_u32(out, static_cast<std::uint32_t>(message.size()));
  put_u32(out, crc_of(message));
  out.append(message);
  return out;
}

Journal::~Journal() {
  std::string error;
  flush(0, error);
  close_file();
}

void Journal::close_file() {
  if (fd_ >= 0) ::close(fd_);  // the lock goes with it
  fd_ = -1;
}

bool Journal::open(const std::string& path, std::string& error) {
  close_file();
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_CLOEXEC, 0600);
  if (fd < 0) {
    error = path + ": " + std::strerror(errno);
    return false;
  }
  if (::flock(fd, LOCK_EX | LOCK_NB) != 0) {
    error = path + ": held by another keeper";
    ::close(fd);
    return false;
  }
  if (::ftruncate(fd, 0) != 0 || !write_all(fd, kHeader, error)) {
    if (error.empty()) error = path + ": " + std::strerror(errno);
    ::close(fd);
    return false;
  }
  path_ = path;
  fd_ = fd;
  size_ = kHeader.size();
  pending_.clear();
  return true;
}

void Journal::append(std::string_view message) {
  if (fd_ < 0) return;
  put_u32(pending_, static_cast<std::uint32_t>(message.size()));
  put_u32(pending_, crc_of(message));
  pending_.append(message);
  ++counters_.records;
}

bool Journal::flush(std::uint64_t now_ms, std::string& error) {
  if (fd_ < 0) return true;
  if (!pending_.empty()) {
    if (!write_all(fd_, pending_, error)) {
      close_file();
      return false;
    }
    size_ += pending_.size();
    counters_.bytes += pending_.size();
    pending_.clear();
    unsynced_ = true;
  }
  if (unsynced_ && now_ms >= last_sync_ms_ + kSyncMs) {
    ::fdatasync(fd_);
    last_sync_ms_ = now_ms;
    unsynced_ = false;
    ++counters_.syncs;
  }
  return true;
}

bool Journal::rewrite(const std::vector<std::string>& messages, std::string& error) {
  if (fd_ < 0) return false;
  const std::string next = path_ + ".new";
  const int fd = ::open(next.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0) {
    error = next + ": " + std::strerror(errno);
    return false;
  }
  // Held before the rename, so that no keeper starting meanwhile takes it for
  // an orphan.
  ::flock(fd, LOCK_EX | LOCK_NB);
  std::string bytes(kHeader);
  for (const std::string& m : messages) bytes += journal_record(m);
  if (!write_all(fd, bytes, error) || ::fdatasync(fd) != 0 ||
      ::rename(next.c_str(), path_.c_str()) != 0) {
    if (error.empty()) error = next + ": " + std::strerror(errno);
    ::close(fd);
    ::unlink(next.c_str());
    return false;
  }
  close_file();
  fd_ = fd;
  size_ = bytes.size();
  pending_.clear();  // the rewrite holds everything appended before it
  unsynced_ = false;
  counters_.bytes += bytes.size();
  ++counters_.rewrites;
  return true;
}

bool read_journal(const std::string& path, std::vector<std::string>& messages, bool& torn,
                  std::string& error) {
  std::string bytes;
  torn = false;
  if (!read_all(path, bytes, error)) return false;
  if (bytes.compare(0, kHeader.size(), kHeader) != 0) {
    error = path + ": not a keeper journal";
    return false;
  }
  std::size_t at = kHeader.size();
  while (at < bytes.size()) {
    if (bytes.size() - at < 8) {
      torn = true;
      break;
    }
    const std::uint32_t length = get_u32(bytes.data() + at);
    const std::uint32_t crc = get_u32(bytes.data() + at + 4);
    if (length > kMaxRecord || bytes.size() - at - 8 < length) {
      torn = true;
      break;
    }
    const std::string_view message(bytes.data() + at + 8, length);
    if (crc_of(message) != crc) {
      torn = true;
      break;
    }
    messages.emplace_back(message);
    at += 8 + length;
  }
  return true;
}

std::string journal_name(std::uint32_t index, long pid) {
  return "keeper-" + std::to_string(index) + "." + std::to_string(pid) + ".journal";
}

std::optional<std::uint32_t> journal_index(std::string_view name) {
  constexpr std::string_view kPrefix = "keeper-";
  constexpr std::string_view kSuffix = ".journal";
  if (name.size() <= kPrefix.size() + kSuffix.size() || !name.starts_with(kPrefix) ||
      !name.ends_with(kSuffix)) {
    return std::nullopt;
  }
  name.remove_prefix(kPrefix.size());
  const std::size_t dot = name.find('.');
  if (dot == 0 || dot == std::string_view::npos || dot > 9) return std::nullopt;
  std::uint32_t index = 0;
  for (const char c : name.substr(0, dot)) {
    if (c < '0' || c > '9') return std::nullopt;
    index = index * 10 + static_cast<std::uint32_t>(c - '0');
  }
  return index;
}

std::vector<std::string> orphan_journals(const std::string& dir, std::uint32_t index,
                                         std::uint32_t workers, std::string_view own) {
  std::vector<std::string> out;
  DIR* d = ::opendir(dir.c_str());
  if (d == nullptr) return out;
  while (const dirent* e = ::readdir(d)) {
    const std::string_view name(e->d_name);
    const std::optional<std::uint32_t> of = journal_index(name);
    if (!of || name == own) continue;
    const bool ours = *of == index || (workers > 0 && *of >= workers && *of % workers == index);
    if (!ours) continue;
    const std::string path = dir + "/" + std::string(name);
    const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) continue;
    // A living keeper holds its own: only a file nobody holds is an orphan.
    if (::flock(fd, LOCK_EX | LOCK_NB) == 0) out.push_back(path);
    ::close(fd);
  }
  ::closedir(d);
  return out;
}

}  // namespace sb::app
