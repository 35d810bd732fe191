// The keeper: a small process per worker slot that holds what a worker must not
// take with it when it dies (docs/crash.md).
//
// The supervisor starts one per worker index before the workers, and gives the
// slot's every worker process the other end of the keeper's packet socket
// (keeper_link.hpp). The worker sends it a record of each session it can keep
// whenever the session changes (session_keeper.hpp), with a duplicate of the
// session's server socket the first time: while the keeper holds it, the
// kernel keeps the connection to the XMPP server open, whatever happens to the
// worker. A worker (re)starting asks for everything kept (kRecover) and gets
// the records and the sockets back; messages a dead worker sent before it died
// are still in the socket, and are read first.
//
// The keeper does no I/O of its own on the sockets it holds: it is a few
// hundred lines that have little reason to crash. With `state_dir` set it is
// also the slot's writer: it appends what it is sent to a journal on disk
// (journal.hpp), asynchronously to the worker, and at start reads the journal
// an earlier daemon left when it died: those sessions ended with it (their
// connections are gone), and their sids are given to each worker process that
// asks (kRestore entries marked gone), so that a returning client hears that
// its session was lost rather than that it never existed. It dies
// with the supervisor (PR_SET_PDEATHSIG), ignores the signals meant for the
// daemon (a Ctrl-C reaches the whole process group), and holds at most what its
// worker holds, so the descriptor limit of one process is respected.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace sb::app {

inline constexpr std::string_view kKeeperOption = "--keeper";
// The keeper's end of its packet socket, in the keeper process.
inline constexpr int kKeeperFd = 3;

// The keeper's whole life; returns its exit code. `state_dir`: where its
// journal goes ("" = none); `workers`: the daemon's worker count (which of a
// crashed daemon's journals this keeper reads, journal.hpp).
int run_keeper(std::uint32_t index, std::uint32_t workers, const std::string& state_dir);

}  // namespace sb::app
