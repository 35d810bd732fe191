// Supervisor: the stub's parent process. It reserves the port, builds the mesh of
// socketpairs, forks the N workers, prints "listening on ADDR:PORT" once every
// worker listens, then does nothing but wait: SIGTERM or SIGINT is forwarded to
// every worker, which stop and exit; a worker that dies on its own takes the whole
// stub down (a test tool should fail loudly, not limp on with a part missing).
// Workers also get SIGTERM if the parent dies (PR_SET_PDEATHSIG), so nothing is
// ever left behind.
#pragma once

#include "tools/stub/options.hpp"

namespace sb::stub {

// Runs the whole stub; returns the exit code of the parent.
int run_supervisor(const Options& options);

}  // namespace sb::stub
