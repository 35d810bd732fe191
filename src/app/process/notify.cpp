// sd_notify messages and the watchdog timer; see notify.hpp.
#include "app/process/notify.hpp"

#include <systemd/sd-daemon.h>

#include <algorithm>
#include <cstdint>
#include <cstdlib>
#include <ctime>
#include <string>

#include "app/log/log.hpp"

namespace sb::app {
namespace {

void send(const std::string& message) {
  if (std::getenv("NOTIFY_SOCKET") == nullptr) return;
  const int rc = sd_notify(0, message.c_str());
  if (rc < 0) SB_LOG_WARN("sd_notify failed: error %d", -rc);
}

}  // namespace

void notify_ready(std::string_view status) { send("READY=1\nSTATUS=" + std::string(status)); }

void notify_reloading() {
  // MONOTONIC_USEC lets systemd tell this reload from an earlier one (required
  // with Type=notify-reload, harmless with Type=notify).
  timespec now{};
  clock_gettime(CLOCK_MONOTONIC, &now);
  const std::uint64_t usec = static_cast<std::uint64_t>(now.tv_sec) * 1000000u +
                             static_cast<std::uint64_t>(now.tv_nsec) / 1000u;
  send("RELOADING=1\nSTATUS=reloading the configuration\nMONOTONIC_USEC=" + std::to_string(usec));
}

void notify_stopping() { send("STOPPING=1\nSTATUS=stopping: ending sessions"); }

void notify_main_pid(int pid) {
  send("MAINPID=" + std::to_string(pid) + "\nSTATUS=upgraded: the new daemon is pid " +
       std::to_string(pid));
}

void forget_service_manager() {
  ::unsetenv("NOTIFY_SOCKET");
  ::unsetenv("WATCHDOG_USEC");
  ::unsetenv("WATCHDOG_PID");
}

bool Watchdog::start(uv_loop_t* loop) {
  std::uint64_t usec = 0;
  // > 0 only if WATCHDOG_USEC is set and WATCHDOG_PID, if set, is this process.
  if (sd_watchdog_enabled(0, &usec) <= 0 || usec == 0) return false;
  const std::uint64_t every_ms = std::max<std::uint64_t>(usec / 2000, 1);
  uv_timer_init(loop, &timer_);
  timer_.data = this;
  uv_timer_start(&timer_, &Watchdog::on_tick, every_ms, every_ms);
  uv_unref(reinterpret_cast<uv_handle_t*>(&timer_));  // never the reason the loop runs
  running_ = true;
  send("WATCHDOG=1");
  SB_LOG_INFO("systemd watchdog: a ping every %llu ms", static_cast<unsigned long long>(every_ms));
  return true;
}

void Watchdog::stop() {
  if (!running_) return;
  running_ = false;
  uv_close(reinterpret_cast<uv_handle_t*>(&timer_), nullptr);
}

void Watchdog::on_tick(uv_timer_t*) { send("WATCHDOG=1"); }

}  // namespace sb::app
