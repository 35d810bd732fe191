// Signals from outside, so that a run can be ended or held without losing its
// figures:
//   SIGINT (Ctrl-C), SIGTERM  end the run phase now instead of killing the
//                             generator: it drains, closes its sessions and
//                             writes the summary, JSON and HTML reports as at
//                             the end of --duration.
//   SIGUSR1                   stop the login ramp: no new session is started,
//                             those online stay up (and chat) until the end.
//                             The ceiling run (bench/ceiling_run.js) uses it to
//                             measure the sessions reached without more coming.
// Each Runner watches them on its loop; with --procs the parent forwards each
// request to its children and merges their reports as usual. SIGKILL remains
// for a generator that must die now.
#pragma once

#include <sys/types.h>

#include <vector>

namespace sb::soak {

// Whether an end (SIGINT/SIGTERM) has been asked for in this process.
bool stop_requested();
// Whether the ramp has been stopped (SIGUSR1).
bool ramp_stopped();
// Record the requests (async-signal-safe).
void note_stop_request();
void note_ramp_stop();

// Parent of --procs: catches the three signals (noting the requests; its poll
// loop is woken by EINTR) until restore_parent_signals().
void catch_parent_signals();
void restore_parent_signals();
// Sends the children what has been asked for and not yet sent (SIGTERM for an
// end, SIGUSR1 for a ramp stop), once each.
void forward_requests(const std::vector<pid_t>& children);

}  // namespace sb::soak
