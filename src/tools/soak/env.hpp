// Env: what every simulated session of one generator process shares: the loop,
// the options, the target's resolved address, the source addresses, the random
// generator and the current interval's figures. One per process, owned by the
// Runner; sessions and transports keep a reference.
#pragma once

#include <netinet/in.h>
#include <uv.h>

#include <cstdint>
#include <random>
#include <string>

#include "net/loop_context.hpp"
#include "tools/soak/options.hpp"
#include "tools/soak/source_addresses.hpp"
#include "tools/soak/stats.hpp"

namespace sb::soak {

struct Env {
  uv_loop_t* loop = nullptr;
  net::LoopContext* context = nullptr;
  const Options* options = nullptr;
  sockaddr_storage target{};  // resolved once at start
  SourceAddresses sources;    // empty: the kernel picks the source
  // BOSH: "POST path HTTP/1.1\r\nHost: ...\r\nContent-Type: ...\r\n"; WebSocket:
  // the opening handshake's "GET path HTTP/1.1\r\n..." without the key.
  std::string request_head;
  std::mt19937_64 rng{12345};
  Interval interval;  // the current second's figures
  // Part-way cuts (--drop) that did not happen because the answer came first: the
  // next requests are cut at once instead, so the cut fraction is the one asked for.
  std::uint64_t cut_debt = 0;
  bool stopping = false;         // the run is over: no new traffic, no resends after end
  std::uint64_t run_end_ms = 0;  // when the run phase ends (loop time), for --drop over WebSocket

  std::uint64_t now_ms() const { return uv_now(loop); }
  double uniform() { return std::uniform_real_distribution<double>(0.0, 1.0)(rng); }
};

// Monotonic time in nanoseconds (CLOCK_MONOTONIC, the same in every process of the
// machine, so a message's intended time means the same to its receiver).
std::uint64_t mono_ns();

}  // namespace sb::soak
