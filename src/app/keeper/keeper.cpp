// The keeper process; see keeper.hpp.
#include "app/keeper/keeper.hpp"

#include <malloc.h>
#include <poll.h>
#include <sys/prctl.h>
#include <unistd.h>

#include <algorithm>
#include <climits>
#include <csignal>
#include <cstdint>
#include <ctime>
#include <functional>
#include <string>
#include <unordered_map>
#include <vector>

#include "app/keeper/journal.hpp"
#include "app/keeper/keeper_link.hpp"
#include "app/keeper/keeper_wire.hpp"
#include "app/keeper/kept_store.hpp"
#include "app/log/log.hpp"

namespace sb::app {
namespace {

// CLOCK_MONOTONIC, the clock libuv's uv_hrtime() reads in the worker too.
std::uint64_t now_us() {
  timespec ts{};
  ::clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<std::uint64_t>(ts.tv_sec) * 1000000 +
         static_cast<std::uint64_t>(ts.tv_nsec) / 1000;
}
std::uint64_t now_ms() { return now_us() / 1000; }

// Entries gathered into messages of one packet each (keeper_link.hpp's bounds on
// bytes and descriptors); each full message goes to `send` with its
// descriptors, the last one at finish(). Once a send fails, the rest is dropped.
class Packer {
 public:
  using Send = std::function<bool(const KeeperMessage&, const std::vector<int>&)>;
  Packer(KeeperKind kind, Send send) : send_(std::move(send)) { message_.kind = kind; }

  // `fd`, `client_fd`: the entry's sockets when it carries them (entry.fd).
  void add(KeptEntry entry, int fd = -1, int client_fd = -1) {
    if (!ok_) return;
    const std::size_t size = encoded_size(entry);
    if (bytes_ + size > KeeperLink::kMaxBytes - kRoom || fds_.size() + 2 > KeeperLink::kMaxFds) {
      finish();
    }
    if (entry.fd) {
      if (entry.websocket) fds_.push_back(client_fd);  // the client's socket comes first
      fds_.push_back(fd);
    }
    message_.entries.push_back(std::move(entry));
    bytes_ += size;
  }
  // Sends what is gathered; false when any send failed.
  bool finish() {
    if (ok_ && !message_.entries.empty()) ok_ = send_(message_, fds_);
    message_.entries.clear();
    fds_.clear();
    bytes_ = 0;
    return ok_;
  }

 private:
  static constexpr std::size_t kRoom = 64;  // the message's head
  Send send_;
  KeeperMessage message_;
  std::vector<int> fds_;
  std::size_t bytes_ = 0;
  bool ok_ = true;
};

class Keeper {
 public:
  Keeper() : link_(kKeeperFd) {}
  // The journal in `state_dir` ("" = none): an earlier one read, a new one begun.
  void open_journal(std::uint32_t index, std::uint32_t workers, const std::string& state_dir);
  // A keeper that is not the slot's first (its predecessor died: the supervisor
  // kept the socket) has nothing: it asks the worker for every session. The
  // first one's question waits in the socket for the first worker, which
  // passes over it.
  void ask_for_everything();
  int run();

 private:
  // How long the keeper rests after taking what was there.
  static constexpr int kRestMs = 10;
  // How long the sids of sessions a crashed daemon had are given to workers:
  // their clients have given up well before (a BOSH client's requests time out
  // within `wait`, plus its retries).
  static constexpr std::uint64_t kLostForMs = 10 * 60 * 1000;
  // The journal is compacted once it is this much larger than what it describes.
  static constexpr std::uint64_t kCompactSlack = 1u << 20;
  // How often the journal's figures are logged (info), while it writes.
  static constexpr std::uint64_t kReportMs = 60 * 1000;
  enum class Taken { kOne, kNone, kClosed };
  Taken take_one(int timeout_ms);
  void update(KeeperMessage& message, std::vector<int>& fds, std::string_view bytes);
  bool restore(std::uint64_t nonce);
  bool send_blocking(const KeeperMessage& message, const std::vector<int>& fds);
  void write_journal();
  void report_journal(std::uint64_t now);
  void read_orphan(const std::string& path);

  KeeperLink link_;
  KeptStore kept_;
  Journal journal_;
  std::vector<std::string> lost_;  // BOSH sids of sessions a crashed daemon had
  std::uint64_t lost_until_ms_ = 0;
  // The journal's figures since the last report: each record's lag (from the
  // worker's send to its write() here, µs), and what was written.
  std::vector<std::uint64_t> sent_us_;  // this round's records, as stamped
  std::vector<std::uint32_t> lags_us_;
  std::uint64_t report_at_ms_ = 0;
  Journal::Counters reported_{};
  std::uint64_t entries_ = 0;  // session records (and drops) appended since the last report
};

// A journal nobody holds: the sessions it describes ended with the daemon that
// wrote it. Each one's sid is remembered (BOSH; a WebSocket client has none to
// come back with), and the file goes.
void Keeper::read_orphan(const std::string& path) {
  std::vector<std::string> messages;
  bool torn = false;
  std::string error;
  if (!read_journal(path, messages, torn, error)) {
    SB_LOG_WARN("journal %s: %s; removed", path.c_str(), error.c_str());
    ::unlink(path.c_str());
    return;
  }
  std::unordered_map<std::string, bool> live;  // sid -> a WebSocket session
  for (const std::string& bytes : messages) {
    KeeperMessage message;
    if (!decode(bytes, message, error)) continue;
    for (const KeptEntry& e : message.entries) {
      if (e.gone) {
        live.erase(e.sid);
      } else {
        live[e.sid] = e.websocket;
      }
    }
  }
  std::size_t websocket = 0;
  for (const auto& [sid, is_websocket] : live) {
    if (is_websocket) {
      ++websocket;
    } else {
      lost_.push_back(sid);
    }
  }
  SB_LOG_WARN(
      "journal %s: the daemon that wrote it died without a clean stop; %zu sessions ended with "
      "it (%zu BOSH, %zu WebSocket)%s",
      path.c_str(), live.size(), live.size() - websocket, websocket,
      torn ? "; its last record was torn (the last moment before the crash is missing)" : "");
  ::unlink(path.c_str());
}

void Keeper::open_journal(std::uint32_t index, std::uint32_t workers,
                          const std::string& state_dir) {
  if (state_dir.empty()) return;
  const std::string name = journal_name(index, static_cast<long>(::getppid()));
  for (const std::string& path : orphan_journals(state_dir, index, workers, name)) {
    read_orphan(path);
  }
  lost_until_ms_ = now_ms() + kLostForMs;
  const std::string path = state_dir + "/" + name;
  std::string error;
  if (!journal_.open(path, error)) {
    SB_LOG_ERROR("journal: %s; this slot's sessions are kept in memory only", error.c_str());
  }
}

void Keeper::ask_for_everything() {
  KeeperMessage resync;
  resync.kind = KeeperKind::kResync;
  std::string error;
  if (link_.send(encode(resync), {}, error) == KeeperLink::Sent::kFailed) {
    SB_LOG_WARN("cannot ask the worker for its sessions: %s", error.c_str());
  }
}

// After each round of taking messages: what gathered goes to disk in one write,
// and a log grown well past what it describes is compacted.
void Keeper::write_journal() {
  if (!journal_.is_open()) return;
  std::string error;
  if (journal_.size() > 2 * kept_.raw_bytes() + kCompactSlack) {
    std::vector<std::string> snapshot;
    Packer packets(KeeperKind::kUpdate, [&](const KeeperMessage& m, const std::vector<int>&) {
      snapshot.push_back(encode(m));
      return true;
    });
    kept_.for_each([&](const KeptEntry& entry, int, int) {
      KeptEntry e = entry;
      e.fd = false;  // the journal holds no socket
      packets.add(std::move(e));
    });
    packets.finish();
    if (!journal_.rewrite(snapshot, error)) {
      SB_LOG_WARN("journal: compaction failed: %s", error.c_str());
    }
    snapshot = {};
    // The snapshot was the size of everything kept, twice over: give it back,
    // or the keeper's resident memory keeps it as a high-water mark.
    ::malloc_trim(0);
  }
  if (!journal_.flush(now_ms(), error)) {
    SB_LOG_ERROR("journal: %s; this slot's sessions are no longer written to disk", error.c_str());
  }
  const std::uint64_t now = now_us();
  for (std::uint64_t sent : sent_us_) {
    if (sent == 0 || sent > now) continue;  // not stamped
    lags_us_.push_back(static_cast<std::uint32_t>(std::min<std::uint64_t>(now - sent, UINT32_MAX)));
  }
  sent_us_.clear();
  report_journal(now / 1000);
}

// One info line a minute while the journal is written: records, bytes, lag.
void Keeper::report_journal(std::uint64_t now) {
  if (report_at_ms_ == 0) report_at_ms_ = now + kReportMs;
  if (now < report_at_ms_ || lags_us_.empty()) return;
  const Journal::Counters& c = journal_.counters();
  const double seconds = static_cast<double>(kReportMs + now - report_at_ms_) / 1000.0;
  std::sort(lags_us_.begin(), lags_us_.end());
  const auto at = [&](double q) {
    return lags_us_[static_cast<std::size_t>(q * static_cast<double>(lags_us_.size() - 1))] /
           1000.0;
  };
  SB_LOG_INFO(
      "journal: %llu session records in %llu messages in %.0f s (%.0f records/s), %.1f KiB "
      "written (%llu compactions, %llu syncs); lag from the worker's send to the write: p50 "
      "%.1f ms, p99 %.1f ms, max %.1f ms; %zu sessions kept",
      static_cast<unsigned long long>(entries_),
      static_cast<unsigned long long>(c.records - reported_.records), seconds,
      static_cast<double>(entries_) / seconds,
      static_cast<double>(c.bytes - reported_.bytes) / 1024.0,
      static_cast<unsigned long long>(c.rewrites - reported_.rewrites),
      static_cast<unsigned long long>(c.syncs - reported_.syncs), at(0.5), at(0.99),
      lags_us_.back() / 1000.0, kept_.size());
  reported_ = c;
  entries_ = 0;
  lags_us_.clear();
  report_at_ms_ = now + kReportMs;
}

int Keeper::run() {
  // Wait for a message, take every one there is, then rest a moment: messages
  // wait safely in the socket meanwhile (a dead worker's too), and a keeper woken
  // for every packet spent more CPU on waking than on keeping.
  for (;;) {
    switch (take_one(-1)) {
      case Taken::kClosed: return 0;  // the supervisor and every worker are gone
      case Taken::kNone: continue;
      case Taken::kOne: break;
    }
    for (;;) {
      const Taken next = take_one(0);
      if (next == Taken::kClosed) return 0;
      if (next == Taken::kNone) break;
    }
    write_journal();
    ::usleep(kRestMs * 1000);
  }
}

Keeper::Taken Keeper::take_one(int timeout_ms) {
  std::string bytes;
  std::vector<int> fds;
  std::string error;
  if (!link_.receive(bytes, fds, timeout_ms, error)) {
    if (error == "closed") return Taken::kClosed;
    if (error != "timed out") SB_LOG_WARN("%s", error.c_str());
    return Taken::kNone;
  }
  KeeperMessage message;
  if (!decode(bytes, message, error) || message.fds() != fds.size()) {
    SB_LOG_WARN("an unreadable message dropped (%s)",
                error.empty() ? "its sockets do not match" : error.c_str());
    for (int fd : fds) ::close(fd);
    return Taken::kOne;
  }
  if (message.kind == KeeperKind::kUpdate) {
    update(message, fds, bytes);
  } else if (message.kind == KeeperKind::kRecover) {
    for (int fd : fds) ::close(fd);
    if (!restore(message.nonce)) SB_LOG_WARN("the worker went away while restoring");
  } else {
    for (int fd : fds) ::close(fd);
  }
  return Taken::kOne;
}

void Keeper::update(KeeperMessage& message, std::vector<int>& fds, std::string_view bytes) {
  if (journal_.is_open()) {
    journal_.append(bytes);  // as it came: the journal replays it as it was applied
    sent_us_.push_back(message.nonce);
    entries_ += message.entries.size();
  }
  std::size_t next = 0;
  for (KeptEntry& e : message.entries) {
    if (e.gone) {
      kept_.drop(e.sid);
    } else if (!e.fd) {
      kept_.put(e, -1);
    } else if (e.websocket) {  // the client's socket, then the server's
      const int client_fd = fds[next++];
      kept_.put(e, fds[next++], client_fd);
    } else {
      kept_.put(e, fds[next++]);
    }
  }
}

bool Keeper::send_blocking(const KeeperMessage& message, const std::vector<int>& fds) {
  const std::string bytes = encode(message);
  for (;;) {
    std::string error;
    switch (link_.send(bytes, fds, error)) {
      case KeeperLink::Sent::kSent: return true;
      case KeeperLink::Sent::kFailed: return false;
      case KeeperLink::Sent::kFull: break;
    }
    pollfd p{link_.fd(), POLLOUT, 0};
    if (::poll(&p, 1, 10000) <= 0) return false;
  }
}

// Every kept session to the worker that asked, in packets, then the end.
bool Keeper::restore(std::uint64_t nonce) {
  Packer packets(KeeperKind::kRestore, [&](const KeeperMessage& m, const std::vector<int>& fds) {
    return send_blocking(m, fds);
  });
  kept_.for_each([&](const KeptEntry& entry, int fd, int client_fd) {
    KeptEntry e = entry;
    e.fd = true;
    packets.add(std::move(e), fd, client_fd);
  });
  // The sessions a crashed daemon had: gone, for the worker to answer their clients.
  if (now_ms() < lost_until_ms_) {
    for (const std::string& sid : lost_) {
      KeptEntry gone;
      gone.gone = true;
      gone.sid = sid;
      packets.add(std::move(gone));
    }
  }
  if (!packets.finish()) return false;
  KeeperMessage end;
  end.kind = KeeperKind::kRestoreEnd;
  end.nonce = nonce;
  SB_LOG_INFO("%zu sessions handed to the worker (%zu bytes of records, kept in %zu)", kept_.size(),
              kept_.raw_bytes(), kept_.stored_bytes());
  return send_blocking(end, {});
}

}  // namespace

int run_keeper(std::uint32_t index, std::uint32_t workers, const std::string& state_dir) {
  // Gone with the supervisor, whatever way it goes; and if it went already,
  // before we could ask, go now.
  ::prctl(PR_SET_PDEATHSIG, SIGKILL);
  if (::getppid() == 1) return 1;
  // A Ctrl-C or systemd's SIGTERM reaches the whole process group: the
  // supervisor decides, and we go when it does.
  for (int sig : {SIGINT, SIGTERM, SIGHUP, SIGUSR1, SIGUSR2, SIGPIPE}) std::signal(sig, SIG_IGN);
  Keeper keeper;
  keeper.open_journal(index, workers, state_dir);
  keeper.ask_for_everything();
  return keeper.run();
}

}  // namespace sb::app
