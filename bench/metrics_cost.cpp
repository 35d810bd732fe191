// bench_metrics_cost: what counting and scraping metrics cost (docs/metrics.md).
//
// 1. Recording: one event = MetricsSlot::add on a slot of a shared memfd board
//    (relaxed load + store, the single writer's increment), against a plain
//    increment of a local counter (the baseline) and against an atomic
//    fetch_add (the locked instruction the board avoids), each over a long run
//    of mixed counters, in ns per event and as ratios to the baseline.
// 2. A scrape: MetricsBoard::totals() + render_metrics() over boards of 1, 16 and
//    105 worker slots (105: the process count a million sessions needs, see
//    shared machine notes), plus reading /proc/PID/stat once per worker as the
//    server does (here of our own pid), in microseconds per scrape.
//
//   build-test/bench/bench_metrics_cost [events_millions=200]
#include <unistd.h>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>

#include "app/metrics/metrics_board.hpp"
#include "app/metrics/metrics_text.hpp"
#include "app/metrics/process_stats.hpp"

using namespace sb::app;
using Clock = std::chrono::steady_clock;

namespace {

double seconds_since(Clock::time_point start) {
  return std::chrono::duration<double>(Clock::now() - start).count();
}

// The counters an HTTP request touches: a request kind, a response code, bytes.
constexpr std::size_t kIndexes[] = {metric::kRequests + 1, metric::kResponses + 200,
                                    metric::kUpstreamBytes, metric::kStanzas};

}  // namespace

int main(int argc, char** argv) {
  const std::uint64_t events = (argc > 1 ? std::strtoull(argv[1], nullptr, 10) : 200) * 1'000'000;
  std::string error;
  auto board = MetricsBoard::create(1, error);
  if (!board) {
    std::fprintf(stderr, "%s\n", error.c_str());
    return 1;
  }
  MetricsSlot& slot = board->slot(0);

  static std::uint64_t plain[metric::kCounters];
  auto start = Clock::now();
  for (std::uint64_t i = 0; i < events; ++i) {
    plain[kIndexes[i & 3]] += 1;
    asm volatile("" ::: "memory");  // keep each increment a memory operation
  }
  const double plain_ns = seconds_since(start) * 1e9 / static_cast<double>(events);

  start = Clock::now();
  for (std::uint64_t i = 0; i < events; ++i) slot.add(kIndexes[i & 3]);
  const double slot_ns = seconds_since(start) * 1e9 / static_cast<double>(events);

  static std::atomic<std::uint64_t> locked[metric::kCounters];
  start = Clock::now();
  for (std::uint64_t i = 0; i < events; ++i) {
    locked[kIndexes[i & 3]].fetch_add(1, std::memory_order_relaxed);
  }
  const double locked_ns = seconds_since(start) * 1e9 / static_cast<double>(events);

  std::printf("recording, %llu events:\n", static_cast<unsigned long long>(events));
  std::printf("  plain increment (baseline)  %6.2f ns/event  1.00x\n", plain_ns);
  std::printf("  MetricsSlot::add (memfd)    %6.2f ns/event  %.2fx\n", slot_ns, slot_ns / plain_ns);
  std::printf("  atomic fetch_add (locked)   %6.2f ns/event  %.2fx\n", locked_ns,
              locked_ns / plain_ns);
  if (plain[kIndexes[0]] + slot.get(kIndexes[0]) + locked[kIndexes[0]].load() == 0) return 1;

  std::printf("scrape (totals + text), and with one /proc/PID/stat read per worker:\n");
  for (std::uint32_t workers : {1u, 16u, 105u}) {
    auto big = MetricsBoard::create(workers, error);
    if (!big) return 1;
    for (std::uint32_t w = 0; w < workers; ++w) {
      for (std::size_t i = 0; i < metric::kCounters; i += 7) big->slot(w).add(i, w + i);
    }
    constexpr int kScrapes = 200;
    const std::size_t text_bytes = render_metrics(big->totals(), {}, {}).size();
    std::size_t bytes = 0;
    start = Clock::now();
    for (int i = 0; i < kScrapes; ++i) bytes += render_metrics(big->totals(), {}, {}).size();
    const double text_us = seconds_since(start) * 1e6 / kScrapes;
    start = Clock::now();
    for (int i = 0; i < kScrapes; ++i) {
      for (std::uint32_t w = 0; w < workers; ++w) bytes += sample_process(getpid()) ? 1u : 0u;
    }
    const double proc_us = seconds_since(start) * 1e6 / kScrapes;
    std::printf("  %3u workers: %8.1f us text, %8.1f us /proc, %8.1f us in all (%zu bytes)\n",
                workers, text_us, proc_us, text_us + proc_us, text_bytes);
    if (bytes == 0) return 1;
  }
  return 0;
}
