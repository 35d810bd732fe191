// SIGINT/SIGTERM as "end now and report", SIGUSR1 as "no more logins"; see
// stop_request.hpp.
#include "tools/soak/stop_request.hpp"

#include <signal.h>

#include <csignal>

namespace sb::soak {

namespace {

volatile std::sig_atomic_t g_stop = 0;
volatile std::sig_atomic_t g_ramp_stop = 0;
bool g_stop_forwarded = false;
bool g_ramp_stop_forwarded = false;
struct sigaction g_old[3]{};
constexpr int kSignals[3] = {SIGINT, SIGTERM, SIGUSR1};

void on_signal(int signum) {
  if (signum == SIGUSR1) {
    g_ramp_stop = 1;
  } else {
    g_stop = 1;
  }
}

void send_all(const std::vector<pid_t>& children, int signum) {
  for (const pid_t pid : children) {
    if (pid > 0) ::kill(pid, signum);
  }
}

}  // namespace

bool stop_requested() { return g_stop != 0; }
bool ramp_stopped() { return g_ramp_stop != 0 || g_stop != 0; }
void note_stop_request() { g_stop = 1; }
void note_ramp_stop() { g_ramp_stop = 1; }

void catch_parent_signals() {
  struct sigaction sa {};
  sa.sa_handler = on_signal;
  sigemptyset(&sa.sa_mask);
  sa.sa_flags = 0;  // no SA_RESTART: poll() returns EINTR and the loop forwards
  for (int i = 0; i < 3; ++i) ::sigaction(kSignals[i], &sa, &g_old[i]);
}

void restore_parent_signals() {
  for (int i = 0; i < 3; ++i) ::sigaction(kSignals[i], &g_old[i], nullptr);
}

void forward_requests(const std::vector<pid_t>& children) {
  if (g_stop != 0 && !g_stop_forwarded) {
    g_stop_forwarded = true;
    send_all(children, SIGTERM);
  }
  if (g_ramp_stop != 0 && !g_ramp_stop_forwarded) {
    g_ramp_stop_forwarded = true;
    send_all(children, SIGUSR1);
  }
}

}  // namespace sb::soak
