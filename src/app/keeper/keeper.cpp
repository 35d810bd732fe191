// The keeper process; see keeper.hpp.
#include "app/keeper/keeper.hpp"

#include <poll.h>
#include <sys/prctl.h>
#include <unistd.h>

#include <csignal>
#include <string>
#include <vector>

#include "app/keeper/keeper_link.hpp"
#include "app/keeper/keeper_wire.hpp"
#include "app/keeper/kept_store.hpp"
#include "app/log/log.hpp"

namespace sb::app {
namespace {

class Keeper {
 public:
  Keeper() : link_(kKeeperFd) {}
  int run();

 private:
  // How long the keeper rests after taking what was there.
  static constexpr int kRestMs = 10;
  enum class Taken { kOne, kNone, kClosed };
  Taken take_one(int timeout_ms);
  void update(KeeperMessage& message, std::vector<int>& fds);
  bool restore(std::uint64_t nonce);
  bool send_blocking(const KeeperMessage& message, const std::vector<int>& fds);

  KeeperLink link_;
  KeptStore kept_;
};

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
    update(message, fds);
  } else if (message.kind == KeeperKind::kRecover) {
    for (int fd : fds) ::close(fd);
    if (!restore(message.nonce)) SB_LOG_WARN("the worker went away while restoring");
  } else {
    for (int fd : fds) ::close(fd);
  }
  return Taken::kOne;
}

void Keeper::update(KeeperMessage& message, std::vector<int>& fds) {
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
  bool sent = true;
  kept_.for_each([&](const KeptEntry& entry, int fd, int client_fd) {
    if (!sent) return;
    const std::size_t size = encoded_size(entry);
    if (bytes + size > KeeperLink::kMaxBytes - 64 || fds.size() + 2 > KeeperLink::kMaxFds) {
      sent = flush();
    }
    batch.entries.push_back(entry);
    batch.entries.back().fd = true;
    if (entry.websocket) fds.push_back(client_fd);
    fds.push_back(fd);
    bytes += size;
  });
  if (!sent) return false;
  if (!flush()) return false;
  KeeperMessage end;
  end.kind = KeeperKind::kRestoreEnd;
  end.nonce = nonce;
  SB_LOG_INFO("%zu sessions handed to the worker (%zu bytes of records, kept in %zu)", kept_.size(),
              kept_.raw_bytes(), kept_.stored_bytes());
  return send_blocking(end, {});
}

}  // namespace

int run_keeper() {
  // Gone with the supervisor, whatever way it goes; and if it went already,
  // before we could ask, go now.
  ::prctl(PR_SET_PDEATHSIG, SIGKILL);
  if (::getppid() == 1) return 1;
  // A Ctrl-C or systemd's SIGTERM reaches the whole process group: the
  // supervisor decides, and we go when it does.
  for (int sig : {SIGINT, SIGTERM, SIGHUP, SIGUSR1, SIGUSR2, SIGPIPE}) std::signal(sig, SIG_IGN);
  Keeper keeper;
  return keeper.run();
}

}  // namespace sb::app
