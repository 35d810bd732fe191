// The keeper's compact store of kept sessions; see kept_store.hpp.
#include "app/keeper/kept_store.hpp"

#include <unistd.h>

#include <cstring>

#include "base/record_codec.hpp"

namespace sb::app {
namespace {
// The rest of an entry (all but its sid) as bytes, and back.
std::string rest_of(const KeptEntry& e) {
  base::RecordWriter w;
  w.u64(e.read);
  w.u64(e.written);
  w.boolean(e.websocket);
  if (e.websocket) {
    w.u64(e.client_read);
    w.u64(e.client_written);
  }
  w.text(e.session);
  w.text(e.link);
  return w.take();
}

bool read_rest(std::string_view bytes, KeptEntry& e) {
  base::RecordReader r(bytes);
  e.read = r.u64();
  e.written = r.u64();
  e.websocket = r.boolean();
  if (e.websocket) {
    e.client_read = r.u64();
    e.client_written = r.u64();
  }
  e.session = r.text(bytes.size(), "a session record");
  e.link = r.text(bytes.size(), "a link record");
  return r.ok() && r.at_end();
}

const Bytef* bytes_of(std::string_view s) { return reinterpret_cast<const Bytef*>(s.data()); }
}  // namespace

KeptStore::KeptStore() {
  // Raw deflate (no header: the dictionary is ours), the fastest level, a 4 KiB
  // window (a record and the dictionary fit), and the smallest hash table: every
  // entry starts with a reset, which clears the table (64 KiB at the default).
  deflateInit2(&deflate_, 1, Z_DEFLATED, -12, 1, Z_DEFAULT_STRATEGY);
  inflateInit2(&inflate_, -12);
}

KeptStore::~KeptStore() {
  for (auto& [sid, stored] : index_) close_sockets(stored);
  deflateEnd(&deflate_);
  inflateEnd(&inflate_);
}

std::string KeptStore::compress(const std::string& raw) {
  deflateReset(&deflate_);
  if (!dictionary_.empty()) {
    deflateSetDictionary(&deflate_, bytes_of(dictionary_), static_cast<uInt>(dictionary_.size()));
  }
  std::string out(deflateBound(&deflate_, raw.size()), '\0');
  deflate_.next_in = const_cast<Bytef*>(bytes_of(raw));
  deflate_.avail_in = static_cast<uInt>(raw.size());
  deflate_.next_out = reinterpret_cast<Bytef*>(out.data());
  deflate_.avail_out = static_cast<uInt>(out.size());
  deflate(&deflate_, Z_FINISH);
  out.resize(out.size() - deflate_.avail_out);
  return out;
}

std::string KeptStore::expand(const Stored& stored) const {
  inflateReset(&inflate_);
  // A raw stream names no dictionary: it is set before inflating.
  inflateSetDictionary(&inflate_, bytes_of(dictionary_), static_cast<uInt>(dictionary_.size()));
  std::string out(stored.raw_size, '\0');
  inflate_.next_in = reinterpret_cast<Bytef*>(stored.bytes.get() + stored.sid_size);
  inflate_.avail_in = stored.size - stored.sid_size;
  inflate_.next_out = reinterpret_cast<Bytef*>(out.data());
  inflate_.avail_out = static_cast<uInt>(out.size());
  const int rc = inflate(&inflate_, Z_FINISH);
  if (rc != Z_STREAM_END || inflate_.avail_out != 0) return {};
  return out;
}

void KeptStore::close_sockets(const Stored& stored) {
  ::close(stored.fd);
  if (stored.client_fd >= 0) ::close(stored.client_fd);
}

void KeptStore::put(const KeptEntry& entry, int fd, int client_fd) {
  auto found = index_.find(entry.sid);
  if (found == index_.end() && fd < 0) return;  // nothing to keep without its socket
  const std::string raw = rest_of(entry);
  // The first entry, uncompressed, is what every later one is compressed against.
  if (dictionary_.empty()) dictionary_ = raw;
  const std::string packed = compress(raw);
  Stored stored;
  stored.sid_size = static_cast<std::uint32_t>(entry.sid.size());
  stored.size = static_cast<std::uint32_t>(entry.sid.size() + packed.size());
  stored.raw_size = static_cast<std::uint32_t>(raw.size());
  stored.bytes = std::make_unique<char[]>(stored.size);
  std::memcpy(stored.bytes.get(), entry.sid.data(), entry.sid.size());
  std::memcpy(stored.bytes.get() + entry.sid.size(), packed.data(), packed.size());
  stored.fd = fd;
  stored.client_fd = client_fd;
  if (found != index_.end()) {
    if (fd < 0) {
      stored.fd = found->second.fd;
      stored.client_fd = found->second.client_fd;
    } else {  // a restarted worker sent the sockets again
      if (found->second.fd != fd) ::close(found->second.fd);
      if (found->second.client_fd >= 0 && found->second.client_fd != client_fd) {
        ::close(found->second.client_fd);
      }
    }
    stored_bytes_ -= found->second.size;
    raw_bytes_ -= found->second.raw_size + found->second.sid_size;
    index_.erase(found);  // its key views the old bytes
  }
  stored_bytes_ += stored.size;
  raw_bytes_ += stored.raw_size + stored.sid_size;
  const std::string_view key(stored.bytes.get(), stored.sid_size);
  index_.emplace(key, std::move(stored));
}

void KeptStore::drop(std::string_view sid) {
  auto found = index_.find(sid);
  if (found == index_.end()) return;
  close_sockets(found->second);
  stored_bytes_ -= found->second.size;
  raw_bytes_ -= found->second.raw_size + found->second.sid_size;
  index_.erase(found);
}

void KeptStore::for_each(
    const std::function<void(const KeptEntry&, int fd, int client_fd)>& visit) const {
  for (const auto& [sid, stored] : index_) {
    KeptEntry entry;
    entry.sid = std::string(sid);
    if (!read_rest(expand(stored), entry)) continue;  // cannot happen: we wrote it
    visit(entry, stored.fd, stored.client_fd);
  }
}

}  // namespace sb::app
