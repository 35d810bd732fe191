// The keeper process; see keeper.hpp.
#include "app/keeper/keeper.hpp"

#include <poll.h>
#include <sys/prctl.h>
#include <unistd.h>

#include <csignal>
#include <string>
#include <unordered_map>
#include <vector>

#include "app/keeper/keeper_link.hpp"
#include "app/keeper/keeper_wire.hpp"
#include "app/log/log.hpp"

namespace sb::app {
namespace {

struct Kept {
  KeptEntry entry;
  int fd = -1;
};

class Keeper {
 public:
  explicit Keeper(int index) : index_(index), link_(kKeeperFd) {}
  ~Keeper() {
    for (auto& [sid, kept] : kept_) ::close(kept.fd);
  }
  int run();

 private:
  void update(KeeperMessage& message, std::vector<int>& fds);
  bool restore(std::uint64_t nonce);
  bool send_blocking(const KeeperMessage& message, const std::vector<int>& fds);

  int index_;
  KeeperLink link_;
  std::unordered_map<std::string, Kept> kept_;
};

int Keeper::run() {
  for (;;) {
    std::string bytes;
    std::vector<int> fds;
    std::string error;
    if (!link_.receive(bytes, fds, -1, error)) {
      if (error == "closed") return 0;  // the supervisor and every worker are gone
      SB_LOG_WARN("keeper %d: %s", index_, error.c_str());
      continue;
    }
    KeeperMessage message;
    if (!decode(bytes, message, error) || message.fds() != fds.size()) {
      SB_LOG_WARN("keeper %d: an unreadable message dropped (%s)", index_,
                  error.empty() ? "its sockets do not match" : error.c_str());
      for (int fd : fds) ::close(fd);
      continue;
    }
    if (message.kind == KeeperKind::kUpdate) {
      update(message, fds);
    } else if (message.kind == KeeperKind::kRecover) {
      for (int fd : fds) ::close(fd);
      if (!restore(message.nonce))
        SB_LOG_WARN("keeper %d: the worker went away while restoring", index_);
    } else {
      for (int fd : fds) ::close(fd);
    }
  }
}

void Keeper::update(KeeperMessage& message, std::vector<int>& fds) {
  std::size_t next = 0;
  for (KeptEntry& e : message.entries) {
    if (e.gone) {
      auto found = kept_.find(e.sid);
      if (found == kept_.end()) continue;
      ::close(found->second.fd);
      kept_.erase(found);
      continue;
    }
    const int fd = e.fd ? fds[next++] : -1;
    auto found = kept_.find(e.sid);
    if (found == kept_.end()) {
      if (fd < 0) continue;  // nothing to keep without its socket
      std::string sid = e.sid;
      kept_.emplace(std::move(sid), Kept{std::move(e), fd});
      continue;
    }
    if (fd >= 0) {  // a restarted worker sends its socket again: the same connection
      ::close(found->second.fd);
      found->second.fd = fd;
    }
    found->second.entry = std::move(e);
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
  KeeperMessage batch;
  batch.kind = KeeperKind::kRestore;
  std::vector<int> fds;
  std::size_t bytes = 0;
  const auto flush = [&]() {
    if (batch.entries.empty()) return true;
    const bool sent = send_blocking(batch, fds);
    batch.entries.clear();
    fds.clear();
    bytes = 0;
    return sent;
  };
  for (const auto& [sid, kept] : kept_) {
    const std::size_t size = encoded_size(kept.entry);
    if (bytes + size > KeeperLink::kMaxBytes - 64 || fds.size() + 1 > KeeperLink::kMaxFds) {
      if (!flush()) return false;
    }
    batch.entries.push_back(kept.entry);
    batch.entries.back().fd = true;
    fds.push_back(kept.fd);
    bytes += size;
  }
  if (!flush()) return false;
  KeeperMessage end;
  end.kind = KeeperKind::kRestoreEnd;
  end.nonce = nonce;
  std::size_t record_bytes = 0;
  for (const auto& [sid, kept] : kept_) {
    record_bytes += kept.entry.session.size() + kept.entry.link.size() + sid.size();
  }
  SB_LOG_INFO("%zu sessions handed to the worker (%zu bytes of records)", kept_.size(),
              record_bytes);
  return send_blocking(end, {});
}

}  // namespace

int run_keeper(int index) {
  // Gone with the supervisor, whatever way it goes; and if it went already,
  // before we could ask, go now.
  ::prctl(PR_SET_PDEATHSIG, SIGKILL);
  if (::getppid() == 1) return 1;
  // A Ctrl-C or systemd's SIGTERM reaches the whole process group: the
  // supervisor decides, and we go when it does.
  for (int sig : {SIGINT, SIGTERM, SIGHUP, SIGUSR1, SIGUSR2, SIGPIPE}) std::signal(sig, SIG_IGN);
  Keeper keeper(index);
  return keeper.run();
}

}  // namespace sb::app
