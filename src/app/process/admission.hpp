// Admission: whether this worker takes new sessions, judged by its file descriptors
// (fd_budget.hpp) and its share of max_sessions, and what it does with its listener
// when it cannot.
//
// Live descriptors are counted, not asked for: those open when the worker started
// (the loop's own, the pipe to the supervisor, the listener) plus one per live
// net::TcpStream, which is every client connection, upstream link and socket
// arriving by hand-over. That is two counter reads, so check() runs after every
// accept and on every loop iteration.
//
// Full (live >= high, or the session share reached): a session creation that still
// reaches this worker (on a connection accepted before, or the very one that
// filled it) is passed with its connection to a worker whose listener is open,
// like a hand-over (handover.hpp); with none, the endpoint answers 503 with
// Retry-After (Admission is its CreationGate). Requests of existing sessions
// go on as ever, and the listener is suspended so that the kernel sends new
// connections to the other workers, and moves those already queued here with
// net.ipv4.tcp_migrate_req=1 (listener.hpp). The last open listener of the port is
// never suspended (listen_board.hpp): it keeps accepting, hands requests to their
// sessions' owners and answers 503 to creations. Without a board (one worker) the
// listener is never suspended. Room again (live < low, and the share below its
// cap): the listener is reopened and creations are served. Each change of state is
// logged once.
//
// With tls_listen the HTTPS listener is treated exactly so, beside the plain one:
// suspended and reopened with it, and the last open one of its port kept
// (ListenBoard counts the two ports apart). A creation that arrives over TLS on a
// full worker is not passed on (its connection cannot move, tls_relay.hpp): it
// gets the 503; closing the TLS listener is what keeps such creations away.
#pragma once

#include <cstdint>

#include "app/process/fd_budget.hpp"
#include "app/process/listen_board.hpp"
#include "engine/creation_gate.hpp"
#include "engine/session_counts.hpp"

namespace sb::net {
class Listener;
}

namespace sb::app {

class Handover;
class ListenBoard;

struct AdmissionCounters {
  std::uint64_t full = 0;        // times the worker became full
  std::uint64_t room = 0;        // times it had room again
  std::uint64_t suspended = 0;   // times its listener was closed
  std::uint64_t reopened = 0;    // times its listener was opened again
  std::uint64_t refused = 0;     // session creations this worker had no room for
  std::uint64_t redirected = 0;  // of those: passed to a worker with room
};

class Admission final : public engine::CreationGate {
 public:
  struct Setup {
    FdBudget budget;
    std::uint64_t baseline_fds = 0;  // open before the first connection
    std::uint32_t max_sessions = 0;  // this worker's share; 0 = no cap
    std::uint32_t index = 0;         // this worker's index on the board
  };

  // `board` may be null (one worker: the listener is never suspended);
  // `tls_listener` too (no tls_listen).
  Admission(Setup setup, net::Listener& listener, const engine::SessionCounts& sessions,
            ListenBoard* board, net::Listener* tls_listener = nullptr);
  Admission(const Admission&) = delete;
  Admission& operator=(const Admission&) = delete;

  // The listeners have just opened (run() calls it once).
  void listening();
  // Re-judges the state and acts on the listener. Cheap; call it often.
  void check();
  // Shutdown: leave the listener alone from now on.
  void stop() { stopped_ = true; }
  // A reload changed max_sessions: this worker's new share (0 = no cap), judged
  // from the next check() on.
  void set_max_sessions(std::uint32_t share) { setup_.max_sessions = share; }
  // A worker that may pass creations on (supervised): `handover` and the count.
  void set_handover(Handover* handover, std::uint32_t workers) {
    handover_ = handover;
    workers_ = workers;
  }
  // engine::CreationGate
  bool admits_new_session() override;
  bool redirect_new_session(http::Request& request) override;

  bool full() const { return full_; }
  std::uint64_t live_fds() const;
  const AdmissionCounters& counters() const { return counters_; }

 private:
  // One listener and what was said about it in the current episode.
  struct Watched {
    net::Listener* listener = nullptr;
    ListenPort port = ListenPort::kPlain;
    const char* name = "";          // for the log: "listener" or "TLS listener"
    bool kept_open_logged = false;  // "last listener: kept open" said for this episode
    bool reopen_failed_logged = false;
  };
  void update_listener(Watched& watched);

  Setup setup_;
  Watched listeners_[2];                   // plain, then TLS (its listener null without tls_listen)
  const engine::SessionCounts& sessions_;  // both transports
  ListenBoard* board_;
  Handover* handover_ = nullptr;
  std::uint32_t workers_ = 1;
  std::uint32_t next_target_ = 0;  // where the search for a worker with room starts
  AdmissionCounters counters_;
  bool full_ = false;
  bool stopped_ = false;
};

}  // namespace sb::app
