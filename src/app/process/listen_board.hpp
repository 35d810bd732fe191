// ListenBoard: which workers have their listener open, on one small page of memory
// the supervisor shares with every worker.
//
// A worker that is full closes its listener so that the kernel sends new
// connections to the workers that still have room (admission.hpp). But if every
// worker closed its listener, nobody would answer at all: a browser whose session
// lives in a full worker could not even reconnect, and a new session would get a
// refused connection instead of a clear 503. So the last open listener of the port
// stays open, and a worker may close its own only while at least one other is
// open. Deciding that needs a count all workers agree on; a compare-and-swap on a
// shared counter settles it with no messages and no O(workers) work.
//
// The page is a memfd made by the supervisor and inherited by each worker as file
// descriptor kWorkerBoardFd. It holds the count and one flag per worker; the
// supervisor clears the flag (and takes the worker out of the count) when a worker
// exits, so a crashed worker is not counted as listening. Each update changes the
// count before the flag when closing and the flag before the count when opening:
// a worker that dies in between leaves the count too low, never too high, and a
// count too low only keeps a listener open that could have closed.
//
// With tls_listen a worker has two listeners, on two ports, and closes both when
// full: the page keeps a count and flags for each port (ListenPort), so that the
// last open listener of each port stays open.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>

namespace sb::app {

enum class ListenPort : std::uint8_t { kPlain = 0, kTls = 1 };

class ListenBoard {
 public:
  static constexpr std::uint32_t kMaxWorkers = 1024;

  // Supervisor: a new board (nothing open), or null with `error` set.
  static std::unique_ptr<ListenBoard> create(std::string& error);
  // Worker: the board on inherited descriptor `fd`, or null with `error` set.
  static std::unique_ptr<ListenBoard> attach(int fd, std::string& error);
  ListenBoard(const ListenBoard&) = delete;
  ListenBoard& operator=(const ListenBoard&) = delete;
  ~ListenBoard();

  int fd() const { return fd_; }

  // Worker `index` has opened its listener of `port`.
  void opened(std::uint32_t index, ListenPort port = ListenPort::kPlain);
  // Worker `index` wants to close its listener of `port`: true (and it is no
  // longer counted) only if another listener of that port stays open.
  bool try_close(std::uint32_t index, ListenPort port = ListenPort::kPlain);
  // Supervisor: worker `index` is gone, whatever it had open, on both ports.
  void forget(std::uint32_t index);
  // A worker other than `self` among the first `workers` whose plain listener is
  // open, looking from `start` on (a full worker passes creations to it); nullopt
  // if none. O(workers), for the rare moment a worker turns full.
  std::optional<std::uint32_t> find_open(std::uint32_t self, std::uint32_t workers,
                                         std::uint32_t start) const;
  // How many listeners of `port` are open (a snapshot).
  std::int32_t open_count(ListenPort port = ListenPort::kPlain) const;

 private:
  struct Port {
    std::atomic<std::int32_t> open;
    std::atomic<std::uint8_t> listening[kMaxWorkers];
  };
  struct Page {
    Port ports[2];  // by ListenPort
  };
  Port& port_of(ListenPort port) const { return page_->ports[static_cast<std::uint8_t>(port)]; }
  static_assert(std::atomic<std::int32_t>::is_always_lock_free);
  static_assert(std::atomic<std::uint8_t>::is_always_lock_free);

  ListenBoard(int fd, Page* page) : fd_(fd), page_(page) {}

  int fd_;
  Page* page_;
};

}  // namespace sb::app
