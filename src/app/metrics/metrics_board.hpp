// MetricsBoard: the counters and gauges of every worker, in one block of shared
// memory, so that one /metrics scrape shows the whole daemon (metrics_server.hpp).
//
// The block is a memfd made by the supervisor (or, with one worker, by the worker
// itself) and inherited by each worker as descriptor kWorkerMetricsFd, like the
// ListenBoard. It holds one fixed-size MetricsSlot per worker index and one more,
// the "retired" slot. Each worker writes only its own slot, so an update is a
// relaxed load and store of one 64-bit atomic: no lock, no read-modify-write
// instruction, no cache line shared with another writer (slots are 64-byte
// aligned). The scraper sums the slots as it reads; a sum may mix values a few
// nanoseconds apart, which Prometheus cannot tell from scrape timing anyway.
//
// A worker that exits takes its gauges with it, but its counters must not vanish
// from the sums (a counter that goes down reads as a reset to Prometheus and
// spoils every rate). So when a worker exits the supervisor adds its counters to
// the retired slot and zeroes its slot before the worker index starts again; the
// sessions it held are counted as ended with condition "worker-lost". The
// supervisor serves the scrapes from the same single-threaded loop, so no scrape
// sees a slot half folded.
//
// Counters are a flat array indexed by the constants of `metric::`, so folding and
// summing are one loop and a new counter is one constant more.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>

#include "engine/condition.hpp"
#include "engine/engine_events.hpp"

namespace sb::app {

namespace metric {
// engine::Condition values, then one for the sessions lost with a worker that died.
inline constexpr std::size_t kConditionSlots = 16;
inline constexpr std::size_t kWorkerLost = 15;
static_assert(static_cast<std::size_t>(engine::Condition::kUndefinedCondition) < kWorkerLost);
inline constexpr std::size_t kRefusalSlots = static_cast<std::size_t>(engine::Refusal::kCount_) + 1;
inline constexpr std::size_t kConnectionBusy = kRefusalSlots - 1;  // hand-over impossible: 503
inline constexpr std::size_t kRequestKinds = static_cast<std::size_t>(engine::RequestKind::kCount_);
inline constexpr std::size_t kStatusCodes = 600;  // HTTP responses by status, 100..599

// Upper bounds (seconds) of the upstream connect-time histogram's buckets; the
// last, +Inf, has no entry here.
inline constexpr double kConnectBounds[] = {0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05,
                                            0.1,    0.25,  0.5,    1,     2.5,  5,     10};
inline constexpr std::size_t kConnectBuckets = std::size(kConnectBounds) + 1;

enum Direction : std::size_t { kToServer = 0, kFromServer = 1 };

// Counter indexes.
inline constexpr std::size_t kSessionsCreated = 0;
inline constexpr std::size_t kSessionsEnded = kSessionsCreated + 1;          // + condition
inline constexpr std::size_t kRequests = kSessionsEnded + kConditionSlots;   // + kind
inline constexpr std::size_t kRefused = kRequests + kRequestKinds;           // + refusal
inline constexpr std::size_t kResponses = kRefused + kRefusalSlots;          // + status
inline constexpr std::size_t kUpstreamConnects = kResponses + kStatusCodes;  // succeeded
inline constexpr std::size_t kUpstreamConnectFailures = kUpstreamConnects + 1;
inline constexpr std::size_t kConnectBucket =
    kUpstreamConnectFailures + 1;  // + bucket (not cumulative)
inline constexpr std::size_t kConnectMicros = kConnectBucket + kConnectBuckets;  // sum of times
inline constexpr std::size_t kStanzas = kConnectMicros + 1;                      // + direction
inline constexpr std::size_t kUpstreamBytes = kStanzas + 2;                      // + direction
inline constexpr std::size_t kHandoversSent = kUpstreamBytes + 2;
inline constexpr std::size_t kHandoversAdopted = kHandoversSent + 1;
inline constexpr std::size_t kHttpConnections = kHandoversAdopted + 1;     // accepted
inline constexpr std::size_t kProxyHeadersRefused = kHttpConnections + 1;  // bad PROXY header
// The WebSocket share of the session counters above, and its messages (one
// stanza each, RFC 7395), so both transports can be told apart with a handful of
// series rather than a label on every family.
inline constexpr std::size_t kWsSessionsCreated = kProxyHeadersRefused + 1;
inline constexpr std::size_t kWsMessages = kWsSessionsCreated + 1;       // + direction
inline constexpr std::size_t kLoginsOpened = kWsMessages + 2;            // stream header came
inline constexpr std::size_t kLoginOpeningFailures = kLoginsOpened + 1;  // the server failed it
inline constexpr std::size_t kLoginBucket = kLoginOpeningFailures + 1;  // + bucket (not cumulative)
inline constexpr std::size_t kLoginMicros = kLoginBucket + kConnectBuckets;  // sum of times
inline constexpr std::size_t kQueueBucket = kLoginMicros + 1;  // + bucket (not cumulative)
inline constexpr std::size_t kQueueMicros = kQueueBucket + kConnectBuckets;  // sum of times
inline constexpr std::size_t kQueueGaveUp = kQueueMicros + 1;                // waited 10 s, refused
// Sessions an upgrade in place moved to this daemon, or that ended because they
// could not move, by reason (kUpgradeReasons, in this order).
inline constexpr std::size_t kUpgradeSessions = kQueueGaveUp + 1;  // + reason
inline constexpr const char* kUpgradeReasons[] = {"moved", "busy", "websocket",
                                                  "tls",   "link", "other"};
inline constexpr std::size_t kUpgradeReasonSlots = std::size(kUpgradeReasons);
inline constexpr std::size_t kCounters = kUpgradeSessions + kUpgradeReasonSlots;
}  // namespace metric

struct alignas(64) MetricsSlot {
  // Gauges, sampled by the worker about once a second (Worker::sample_metrics).
  std::atomic<std::int64_t> pid;
  std::atomic<std::int64_t> sessions;               // both transports
  std::atomic<std::int64_t> websocket_connections;  // after their 101, session or not
  std::atomic<std::int64_t> held_requests;
  std::atomic<std::int64_t> upstream_links;
  std::atomic<std::int64_t> http_connections;
  std::atomic<std::int64_t> open_fds;
  std::atomic<std::int64_t> max_fds;
  std::atomic<std::int64_t> logins_in_progress;  // LoginPacer
  std::atomic<std::int64_t> login_rate;          // logins a second it admits now
  std::atomic<std::int64_t> logins_queued;       // BOSH creations waiting their turn
  std::atomic<std::uint64_t> counters[metric::kCounters];

  // The single writer's increment: no locked instruction.
  void add(std::size_t index, std::uint64_t n = 1) {
    std::atomic<std::uint64_t>& c = counters[index];
    c.store(c.load(std::memory_order_relaxed) + n, std::memory_order_relaxed);
  }
  void set(std::atomic<std::int64_t>& gauge, std::int64_t value) {
    gauge.store(value, std::memory_order_relaxed);
  }
  std::uint64_t get(std::size_t index) const {
    return counters[index].load(std::memory_order_relaxed);
  }
};
static_assert(std::atomic<std::uint64_t>::is_always_lock_free);

// The sums over all slots, as the scraper renders them.
struct MetricsTotals {
  std::int64_t sessions = 0, websocket_connections = 0, held_requests = 0, upstream_links = 0,
               http_connections = 0;
  std::int64_t open_fds = 0, max_fds = 0;
  std::int64_t logins_in_progress = 0, login_rate = 0, logins_queued = 0;
  std::uint64_t counters[metric::kCounters] = {};
};

class MetricsBoard {
 public:
  // A new board with `workers` slots and the retired one, all zero; null with
  // `error` set if the memory cannot be had.
  static std::unique_ptr<MetricsBoard> create(std::uint32_t workers, std::string& error);
  // The board on inherited descriptor `fd` (a worker).
  static std::unique_ptr<MetricsBoard> attach(int fd, std::uint32_t workers, std::string& error);
  MetricsBoard(const MetricsBoard&) = delete;
  MetricsBoard& operator=(const MetricsBoard&) = delete;
  ~MetricsBoard();

  int fd() const { return fd_; }
  std::uint32_t workers() const { return workers_; }
  MetricsSlot& slot(std::uint32_t index) { return slots_[index]; }
  const MetricsSlot& slot(std::uint32_t index) const { return slots_[index]; }

  // Supervisor, after worker `index` exited: its counters go to the retired slot,
  // its open sessions count as ended by "worker-lost", and the slot is zeroed.
  void retire(std::uint32_t index);
  MetricsTotals totals() const;

 private:
  MetricsBoard(int fd, MetricsSlot* slots, std::uint32_t workers, std::size_t bytes)
      : fd_(fd), slots_(slots), workers_(workers), bytes_(bytes) {}

  int fd_;
  MetricsSlot* slots_;  // workers_ + 1 of them; the last is the retired slot
  std::uint32_t workers_;
  std::size_t bytes_;
};

}  // namespace sb::app
