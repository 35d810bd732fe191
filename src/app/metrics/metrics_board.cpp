// The shared counters of all workers; see metrics_board.hpp.
#include "app/metrics/metrics_board.hpp"

#include <sys/mman.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <new>

namespace sb::app {
namespace {
// After the slots, the board says what layout it has: a board made by another
// build (an upgrade in place hands its board to the next binary) is used only
// when its slots are laid out the same.
struct Footer {
  std::uint64_t magic;
  std::uint64_t slot_bytes;
  std::uint64_t counters;
};
constexpr std::uint64_t kMagic = 0x53426d6574726963;  // "SBmetric"

std::size_t slots_bytes(std::uint32_t workers) {
  return sizeof(MetricsSlot) * (std::size_t{workers} + 1);
}
std::size_t board_bytes(std::uint32_t workers) {
  const std::size_t page = 4096;
  const std::size_t bytes = slots_bytes(workers) + sizeof(Footer);
  return (bytes + page - 1) / page * page;
}
Footer our_footer() { return Footer{kMagic, sizeof(MetricsSlot), metric::kCounters}; }
}  // namespace

std::unique_ptr<MetricsBoard> MetricsBoard::create(std::uint32_t workers, std::string& error) {
  // Not close-on-exec: the workers inherit it (worker_launch.hpp says where).
  const int fd = memfd_create("switchboard-metrics", 0);
  if (fd < 0 || ftruncate(fd, static_cast<off_t>(board_bytes(workers))) != 0) {
    error = std::string("shared metrics board: ") + std::strerror(errno);
    if (fd >= 0) ::close(fd);
    return nullptr;
  }
  // A fresh memfd reads as zeros, which is every counter and gauge at 0.
  const Footer footer = our_footer();
  if (::pwrite(fd, &footer, sizeof footer, static_cast<off_t>(slots_bytes(workers))) !=
      static_cast<ssize_t>(sizeof footer)) {
    error = std::string("shared metrics board: ") + std::strerror(errno);
    ::close(fd);
    return nullptr;
  }
  auto board = attach(fd, workers, error);
  if (!board) ::close(fd);
  return board;
}

std::unique_ptr<MetricsBoard> MetricsBoard::attach(int fd, std::uint32_t workers,
                                                   std::string& error) {
  const std::size_t bytes = board_bytes(workers);
  Footer footer{};
  const Footer ours = our_footer();
  if (::pread(fd, &footer, sizeof footer, static_cast<off_t>(slots_bytes(workers))) !=
          static_cast<ssize_t>(sizeof footer) ||
      std::memcmp(&footer, &ours, sizeof footer) != 0) {
    error = "shared metrics board: made by a build with another layout";
    return nullptr;
  }
  void* memory = mmap(nullptr, bytes, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
  if (memory == MAP_FAILED) {
    error = std::string("shared metrics board: ") + std::strerror(errno);
    return nullptr;
  }
  // Zero bytes are valid atomics of value 0 (they are lock-free, with no hidden
  // state); the slots are "created" in place over that memory.
  auto* slots = static_cast<MetricsSlot*>(memory);
  return std::unique_ptr<MetricsBoard>(new MetricsBoard(fd, slots, workers, bytes));
}

MetricsBoard::~MetricsBoard() {
  munmap(slots_, bytes_);
  ::close(fd_);
}

void MetricsBoard::retire(std::uint32_t index) {
  if (index >= workers_) return;
  MetricsSlot& gone = slots_[index];
  MetricsSlot& retired = slots_[workers_];
  for (std::size_t i = 0; i < metric::kCounters; ++i) retired.add(i, gone.get(i));
  const std::int64_t lost = gone.sessions.load(std::memory_order_relaxed);
  if (lost > 0) {
    retired.add(metric::kSessionsEnded + metric::kWorkerLost, static_cast<std::uint64_t>(lost));
  }
  for (auto& counter : gone.counters) counter.store(0, std::memory_order_relaxed);
  for (auto* gauge : {&gone.pid, &gone.sessions, &gone.websocket_connections, &gone.held_requests,
                      &gone.upstream_links, &gone.http_connections, &gone.open_fds, &gone.max_fds,
                      &gone.logins_in_progress, &gone.login_rate, &gone.logins_queued}) {
    gauge->store(0, std::memory_order_relaxed);
  }
}

MetricsTotals MetricsBoard::totals() const {
  MetricsTotals t;
  for (std::uint32_t s = 0; s <= workers_; ++s) {
    const MetricsSlot& slot = slots_[s];
    t.sessions += slot.sessions.load(std::memory_order_relaxed);
    t.websocket_connections += slot.websocket_connections.load(std::memory_order_relaxed);
    t.held_requests += slot.held_requests.load(std::memory_order_relaxed);
    t.upstream_links += slot.upstream_links.load(std::memory_order_relaxed);
    t.http_connections += slot.http_connections.load(std::memory_order_relaxed);
    t.open_fds += slot.open_fds.load(std::memory_order_relaxed);
    t.max_fds += slot.max_fds.load(std::memory_order_relaxed);
    t.logins_in_progress += slot.logins_in_progress.load(std::memory_order_relaxed);
    t.login_rate += slot.login_rate.load(std::memory_order_relaxed);
    t.logins_queued += slot.logins_queued.load(std::memory_order_relaxed);
    for (std::size_t i = 0; i < metric::kCounters; ++i) t.counters[i] += slot.get(i);
  }
  return t;
}

}  // namespace sb::app
