// Starting an upgrade's new daemon; see successor.hpp.
#include "app/upgrade/successor.hpp"

#include <cstring>

#include "app/upgrade/upgrade_taker.hpp"  // kUpgradeFdEnv

extern char** environ;

namespace sb::app {

std::string successor_exit_reason(std::int64_t status, int signal) {
  return signal != 0 ? "the new binary was killed by signal " + std::to_string(signal)
                     : "the new binary exited with status " + std::to_string(status);
}

int spawn_successor(uv_loop_t* loop, uv_process_t* process, const std::string& exe,
                    const std::vector<std::string>& args, int channel_fd, uv_exit_cb on_exit) {
  std::vector<char*> argv;
  for (const std::string& a : args) argv.push_back(const_cast<char*>(a.c_str()));
  argv.push_back(nullptr);
  const std::string named = std::string(kUpgradeFdEnv) + "=";
  std::vector<std::string> env;
  for (char** e = environ; *e != nullptr; ++e) {
    if (std::strncmp(*e, "WATCHDOG_PID=", 13) == 0) continue;
    if (std::strncmp(*e, named.c_str(), named.size()) == 0) continue;
    env.emplace_back(*e);
  }
  env.push_back(named + std::to_string(kSuccessorChannelFd));
  std::vector<char*> envp;
  for (const std::string& e : env) envp.push_back(const_cast<char*>(e.c_str()));
  envp.push_back(nullptr);
  uv_stdio_container_t stdio[kSuccessorChannelFd + 1];
  for (int i = 0; i < kSuccessorChannelFd; ++i) {
    stdio[i].flags = UV_INHERIT_FD;
    stdio[i].data.fd = i;
  }
  stdio[kSuccessorChannelFd].flags = UV_INHERIT_FD;
  stdio[kSuccessorChannelFd].data.fd = channel_fd;
  uv_process_options_t options{};
  options.file = exe.c_str();
  options.args = argv.data();
  options.env = envp.data();
  options.stdio_count = kSuccessorChannelFd + 1;
  options.stdio = stdio;
  options.exit_cb = on_exit;
  return uv_spawn(loop, process, &options);
}

}  // namespace sb::app
