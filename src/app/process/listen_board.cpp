// The shared listener count; see listen_board.hpp.
#include "app/process/listen_board.hpp"

#include <sys/mman.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

namespace sb::app {

namespace {
constexpr std::size_t kPageBytes = 4096;
}  // namespace

std::unique_ptr<ListenBoard> ListenBoard::create(std::string& error) {
  static_assert(sizeof(Page) <= kPageBytes);
  // Not close-on-exec: the workers inherit it (worker_launch.hpp says where).
  const int fd = memfd_create("switchboard-listen-board", 0);
  if (fd < 0 || ftruncate(fd, kPageBytes) != 0) {
    error = std::string("shared listener board: ") + std::strerror(errno);
    if (fd >= 0) ::close(fd);
    return nullptr;
  }
  // A fresh memfd reads as zeros: no listener open, every flag clear.
  auto board = attach(fd, error);
  if (!board) ::close(fd);
  return board;
}

std::unique_ptr<ListenBoard> ListenBoard::attach(int fd, std::string& error) {
  void* memory = mmap(nullptr, kPageBytes, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
  if (memory == MAP_FAILED) {
    error = std::string("shared listener board: ") + std::strerror(errno);
    return nullptr;
  }
  return std::unique_ptr<ListenBoard>(new ListenBoard(fd, static_cast<Page*>(memory)));
}

ListenBoard::~ListenBoard() {
  munmap(page_, kPageBytes);
  ::close(fd_);
}

void ListenBoard::opened(std::uint32_t index, ListenPort port) {
  if (index >= kMaxWorkers) return;
  Port& board = port_of(port);
  if (board.listening[index].exchange(1) == 0) board.open.fetch_add(1);
}

bool ListenBoard::try_close(std::uint32_t index, ListenPort port) {
  Port& board = port_of(port);
  if (index >= kMaxWorkers || board.listening[index].load() == 0) return true;
  std::int32_t open = board.open.load();
  while (open > 1) {
    if (board.open.compare_exchange_weak(open, open - 1)) {
      board.listening[index].store(0);
      return true;
    }
  }
  return false;
}

void ListenBoard::forget(std::uint32_t index) {
  if (index >= kMaxWorkers) return;
  for (Port& board : page_->ports) {
    if (board.listening[index].exchange(0) == 1) board.open.fetch_sub(1);
  }
}

std::optional<std::uint32_t> ListenBoard::find_open(std::uint32_t self, std::uint32_t workers,
                                                    std::uint32_t start) const {
  workers = std::min(workers, kMaxWorkers);
  for (std::uint32_t i = 0; i < workers; ++i) {
    const std::uint32_t index = (start + i) % workers;
    if (index != self && port_of(ListenPort::kPlain).listening[index].load() != 0) return index;
  }
  return std::nullopt;
}

std::int32_t ListenBoard::open_count(ListenPort port) const { return port_of(port).open.load(); }

}  // namespace sb::app
