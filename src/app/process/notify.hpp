// The service manager's view of the daemon: systemd's Type=notify protocol
// (sd_notify(3), libsystemd), so that `systemctl start` returns once switchboard
// serves, `systemctl reload` once a reload is done, and a hung daemon is
// restarted by the watchdog.
//
//   READY=1                    every worker listens (alone: the one process);
//                              again after each reload, refused or not
//   RELOADING=1 + MONOTONIC_USEC  a SIGHUP reload begins
//   STOPPING=1                 the graceful shutdown begins
//   WATCHDOG=1                 every WatchdogSec/2 while the loop runs, when the
//                              manager set WATCHDOG_USEC for this process
//   STATUS=...                 a line for `systemctl status`
//   MAINPID=...                an upgrade in place: the new daemon is the main
//                              process now (sent by the old one, before it exits)
//
// Only the process systemd started notifies (the supervisor, or the single
// worker); supervised workers have NOTIFY_SOCKET removed from their environment
// (main.cpp), so NotifyAccess=main is enough. Without NOTIFY_SOCKET (not under
// systemd) every call is a no-op costing one getenv.
#pragma once

#include <uv.h>

#include <string_view>

namespace sb::app {

void notify_ready(std::string_view status);
void notify_reloading();
void notify_stopping();
// An upgrade in place handed the daemon to process `pid`: systemd follows it as
// the service's main process (MAINPID=, accepted from the main process itself).
void notify_main_pid(int pid);
// Removes the variables that would make this process (and its children) talk to
// the service manager: for supervised workers.
void forget_service_manager();

// WATCHDOG=1 pings from a timer of the loop, at half the interval the manager
// asked for. Does nothing when no watchdog is set for this process.
class Watchdog {
 public:
  Watchdog() = default;
  Watchdog(const Watchdog&) = delete;
  Watchdog& operator=(const Watchdog&) = delete;

  // Starts the pings if the manager wants them; true if it does.
  bool start(uv_loop_t* loop);
  // Stops and closes the timer (the loop must run once more to finish the close).
  void stop();

 private:
  static void on_tick(uv_timer_t* timer);
  uv_timer_t timer_{};
  bool running_ = false;
};

}  // namespace sb::app
