// The fd budget of a worker and the arithmetic of `workers = auto` (fd_budget.hpp),
// and the shared listener board's rule that the last open listener stays open
// (listen_board.hpp).
#include "app/printing.hpp"

#include <unistd.h>

#include <string>

#include "app/process/fd_budget.hpp"
#include "app/process/listen_board.hpp"

using namespace sb::app;

TEST_CASE("the fd reserve is 2% of the limit, at least 64, at most half") {
  const FdBudget big = fd_budget(20000);
  CHECK(big.reserve == 400);
  CHECK(big.high == 19600);
  CHECK(big.low == 19400);  // hysteresis: 1% of the limit
  CHECK(big.sessions() == 9800);

  const FdBudget small = fd_budget(300);
  CHECK(small.reserve == 64);
  CHECK(small.high == 236);
  CHECK(small.low == 220);  // at least 16 below
  CHECK(small.sessions() == 118);

  const FdBudget tiny = fd_budget(100);
  CHECK(tiny.reserve == 50);
  CHECK(tiny.high == 50);
  CHECK(tiny.low == 34);

  const FdBudget million = fd_budget(1048576);
  CHECK(million.reserve == 20971);
  CHECK(million.high + million.reserve == 1048576);
  CHECK(million.low < million.high);
}

TEST_CASE("workers = auto: one per core, more when max_sessions needs the fds") {
  // No max_sessions: one per core, whatever the fd limit.
  CHECK(choose_workers(0, 0, 20000, 2).workers == 2);
  CHECK(choose_workers(0, 0, 1024, 16).workers == 16);
  CHECK(choose_workers(0, 0, 20000, 0).workers == 1);  // an unknown core count
  // A million sessions at 9,800 per worker (20,000 fds, 400 kept): 103 workers.
  const WorkerChoice million = choose_workers(0, 1000000, 20000, 2);
  CHECK(million.workers == 103);
  CHECK(million.why.find("needs 103") != std::string::npos);
  CHECK(million.why.find("fd limit 20000") != std::string::npos);
  // Few sessions: the cores still set the floor.
  CHECK(choose_workers(0, 5000, 20000, 2).workers == 2);
  CHECK(choose_workers(0, 19601, 20000, 1).workers == 3);  // one more than 9,800 x 2
  CHECK(choose_workers(0, 19600, 20000, 1).workers == 2);
  CHECK(choose_workers(0, 9800, 20000, 1).workers == 1);
  // More than 1024 processes' worth: capped, and the reason says so.
  const WorkerChoice capped = choose_workers(0, 4000000000U, 1024, 2);
  CHECK(capped.workers == 1024);
  CHECK(capped.why.find("capped") != std::string::npos);
  // An explicit count is kept as it is.
  CHECK(choose_workers(7, 1000000, 20000, 2).workers == 7);
  CHECK(choose_workers(7, 1000000, 20000, 2).why == "as configured");
}

TEST_CASE("each worker holds its share of max_sessions, rounded up") {
  CHECK(worker_max_sessions(0, 8) == 0);  // unlimited stays unlimited
  CHECK(worker_max_sessions(1000, 1) == 1000);
  CHECK(worker_max_sessions(1000, 3) == 334);
  CHECK(worker_max_sessions(1000000, 103) == 9709);
  CHECK(worker_max_sessions(5, 10) == 1);
  CHECK(worker_max_sessions(4294967295U, 2) == 2147483648U);
}

TEST_CASE("the listen board lets a listener close only while another stays open") {
  std::string error;
  auto board = ListenBoard::create(error);
  REQUIRE(board);
  CHECK(error.empty());
  // A worker maps the same page through its inherited descriptor.
  auto worker_view = ListenBoard::attach(::dup(board->fd()), error);
  REQUIRE(worker_view);
  CHECK(board->open_count() == 0);
  board->opened(0);
  worker_view->opened(1);
  worker_view->opened(1);  // twice is once
  CHECK(board->open_count() == 2);
  CHECK(worker_view->try_close(1));  // 0 is still open
  CHECK_FALSE(board->try_close(0));  // the last one stays
  CHECK(board->open_count() == 1);
  CHECK(worker_view->try_close(1));  // not open: nothing to keep
  worker_view->opened(1);
  CHECK(board->try_close(0));
  // Worker 1 dies: the supervisor takes it off, once.
  board->forget(1);
  board->forget(1);
  CHECK(board->open_count() == 0);
}

TEST_CASE("the listen board counts the TLS port apart: the last TLS listener stays too") {
  std::string error;
  auto board = ListenBoard::create(error);
  REQUIRE(board);
  using sb::app::ListenPort;
  board->opened(0);
  board->opened(1);
  board->opened(0, ListenPort::kTls);
  board->opened(1, ListenPort::kTls);
  CHECK(board->open_count(ListenPort::kTls) == 2);
  // Worker 1 is full: both its listeners close while worker 0's stay open.
  CHECK(board->try_close(1));
  CHECK(board->try_close(1, ListenPort::kTls));
  CHECK(board->open_count() == 1);
  CHECK(board->open_count(ListenPort::kTls) == 1);
  // Worker 0 full as well: neither of its listeners is the other port's, so both
  // stay (the last of each port).
  CHECK_FALSE(board->try_close(0));
  CHECK_FALSE(board->try_close(0, ListenPort::kTls));
  // Only worker 1's TLS listener reopens: worker 0 may close its TLS one, not its plain one.
  board->opened(1, ListenPort::kTls);
  CHECK(board->try_close(0, ListenPort::kTls));
  CHECK_FALSE(board->try_close(0));
  CHECK(board->find_open(1, 2, 0) == 0u);  // creations go by the plain port
  // A worker that dies is forgotten on both ports.
  board->forget(1);
  CHECK(board->open_count(ListenPort::kTls) == 0);
  CHECK(board->open_count() == 1);
}
