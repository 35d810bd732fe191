// Runner: schedules, phases and the per-second figures of one generator process.
//
// Both schedules are open-loop: the n-th login and the n-th message each have an
// intended time (t0 + n / rate) fixed before the run; a late tick catches up by
// starting everything whose time has come, and message latency is measured from
// that intended time. So a slow generator or server shows up in the figures, and
// the loop lag (how late the tick fires against the time it was set for) tells
// which of the two it was.
//
// The tick is a one-shot timer set for the next thing due (a login, a message, the
// second's figures), at most kMaxSleepNs away, not a fixed 1 ms repeat: a dozen
// generator processes waking a thousand times a second each cost more CPU and
// scheduler (and, in a VM, hypervisor) time than the load they generate, and that
// showed up as the generator's own lag in the latency tail.
#include "tools/soak/runner.hpp"

#include <algorithm>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <string>

#include "tools/soak/stop_request.hpp"

namespace sb::soak {

namespace {

constexpr std::uint32_t kNone = UINT32_MAX;
constexpr std::uint64_t kTickNs = 1'000'000;       // the schedules' resolution
constexpr std::uint64_t kMaxSleepNs = 20'000'000;  // the lag is sampled at least this often
constexpr std::uint64_t kSecondNs = 1'000'000'000;
constexpr std::uint64_t kCloseGraceNs = 5 * kSecondNs;
constexpr std::size_t kClosesPerTick = 5;  // 5,000 terminates per second at most

}  // namespace

Runner::Runner(const Options& options, const Env& prototype, Share share, IntervalFn on_interval,
               FinalFn on_final)
    : options_(options),
      share_(share),
      on_interval_(std::move(on_interval)),
      on_final_(std::move(on_final)) {
  uv_loop_init(&loop_);
  context_ = std::make_unique<net::LoopContext>(&loop_);
  env_.loop = &loop_;
  env_.context = context_.get();
  env_.options = &options_;
  env_.target = prototype.target;
  env_.sources = prototype.sources;
  env_.request_head = prototype.request_head;
  env_.rng.seed(0x50a4 + share.proc * 7919 + share.first_number);
  clients_.resize(share_.count);
  online_pos_.assign(share_.count, kNone);
  online_.reserve(share_.count);
}

Runner::~Runner() {
  clients_.clear();
  context_->stop_ticking();
  net::close_remaining_handles(&loop_);
  context_.reset();
  uv_loop_close(&loop_);
}

int Runner::run() {
  final_.sessions_target = share_.count;
  final_.source = env_.sources.describe();
  final_.rss_baseline = self_rss_bytes();
  final_.fds_baseline = self_open_sockets();
  context_->start_ticking();
  uv_timer_init(&loop_, &tick_);
  tick_.data = this;
  t0_ns_ = mono_ns();
  next_tick_ns_ = t0_ns_ + kTickNs;
  next_second_ns_ = t0_ns_ + kSecondNs;
  phase_end_ns_ = t0_ns_ + static_cast<std::uint64_t>(options_.duration_s * 1e9);
  env_.run_end_ms = uv_now(&loop_) + static_cast<std::uint64_t>(options_.duration_s * 1000);
  env_.interval.index = 1;
  uv_timer_start(&tick_, on_tick, 0, 0);
  const int signals[3] = {SIGINT, SIGTERM, SIGUSR1};
  for (int i = 0; i < 3; ++i) {
    uv_signal_init(&loop_, &signals_[i]);
    signals_[i].data = this;
    uv_signal_start(&signals_[i], on_signal, signals[i]);
  }
  if (stop_requested()) stop_early();  // asked for before the handlers were in place
  uv_run(&loop_, UV_RUN_DEFAULT);
  return 0;
}

void Runner::on_tick(uv_timer_t* timer) { static_cast<Runner*>(timer->data)->tick(); }

void Runner::on_signal(uv_signal_t* handle, int signum) {
  if (signum == SIGUSR1) {
    note_ramp_stop();  // start_logins() looks at it
    return;
  }
  note_stop_request();
  static_cast<Runner*>(handle->data)->stop_early();
}

void Runner::stop_early() {
  if (phase_ != Phase::kRun) return;  // already draining or closing
  phase_end_ns_ = mono_ns();
  uv_timer_start(&tick_, on_tick, 0, 0);
}

void Runner::tick() {
  const std::uint64_t now = mono_ns();
  // Lateness of this tick against its slot: the loop was busy elsewhere that long.
  // The closing burst (every session's terminate at once) is the generator's own
  // end, not load it failed to keep up with: it is not counted.
  if (now > next_tick_ns_ && phase_ != Phase::kClosing) {
    const double lag_ms = static_cast<double>(now - next_tick_ns_) / 1e6;
    env_.interval.loop_lag_ms = std::max(env_.interval.loop_lag_ms, lag_ms);
  }
  switch (phase_) {
    case Phase::kRun:
      if (!ramp_stopped()) start_logins(now);
      if (!stop_requested()) send_messages(now);
      if (now >= phase_end_ns_) {
        phase_ = Phase::kDrain;
        env_.stopping = true;
        phase_end_ns_ = now + static_cast<std::uint64_t>(options_.drain_s) * kSecondNs;
      }
      break;
    case Phase::kDrain:
      if (ledger_.outstanding() == 0 || now >= phase_end_ns_) {
        if (ledger_.outstanding() > 0 && std::getenv("SOAK_DEBUG") != nullptr) {
          std::fprintf(stderr, "soak: drain over with messages in flight:\n%s",
                       ledger_.describe_losses(5).c_str());
          for (std::size_t i = 0; i < clients_.size() && i < 64; ++i) {
            if (clients_[i])
              std::fprintf(stderr, "  client %zu: %s\n", i, clients_[i]->debug_state().c_str());
          }
        }
        phase_ = Phase::kClosing;
        phase_end_ns_ = 0;
      }
      break;
    case Phase::kClosing:
      // Sessions end a batch per tick (each terminate may need a new connection),
      // so the loop stays responsive; the grace runs from the last terminate.
      for (std::size_t n = 0; n < kClosesPerTick && close_cursor_ < clients_.size(); ++n) {
        if (clients_[close_cursor_]) clients_[close_cursor_]->close();
        ++close_cursor_;
      }
      if (close_cursor_ >= clients_.size() && phase_end_ns_ == 0)
        phase_end_ns_ = now + kCloseGraceNs;
      if (ended_ >= started_ || (phase_end_ns_ != 0 && now >= phase_end_ns_)) {
        phase_ = Phase::kDone;
        finish();
        return;
      }
      break;
    case Phase::kDone: return;
  }
  if (now >= next_second_ns_) {
    emit_interval();
    next_second_ns_ += kSecondNs;
    if (next_second_ns_ < now) next_second_ns_ = now + kSecondNs;
  }
  schedule_tick(now);
}

// Sets the one-shot tick for the next thing due. While running that is the next
// login, the next message slot, the next second or the end of the phase; the
// short drain and closing phases poll every kTickNs.
void Runner::schedule_tick(std::uint64_t now_ns) {
  std::uint64_t due = now_ns + kTickNs;
  if (phase_ == Phase::kRun) {
    due = std::min({now_ns + kMaxSleepNs, next_second_ns_, phase_end_ns_});
    if (started_ < share_.count && share_.rate > 0 && !ramp_stopped()) {
      due = std::min(due, t0_ns_ + static_cast<std::uint64_t>(static_cast<double>(started_) * 1e9 /
                                                              share_.rate));
    }
    if (share_.msg_rate > 0) {
      due = std::min(
          due, t0_ns_ + static_cast<std::uint64_t>(static_cast<double>(messages_slotted_ + 1) *
                                                   1e9 / share_.msg_rate));
    }
    due = std::max(due, now_ns);
  }
  next_tick_ns_ = due;
  // libuv counts in whole milliseconds: round up, so the tick is never early.
  const std::uint64_t wait_ns = due - now_ns;
  uv_timer_start(&tick_, on_tick, (wait_ns + 999'999) / 1'000'000, 0);
}

void Runner::start_logins(std::uint64_t now_ns) {
  const double per_ns = share_.rate / 1e9;
  while (started_ < share_.count) {
    const auto intended =
        t0_ns_ + static_cast<std::uint64_t>(static_cast<double>(started_) / per_ns);
    if (intended > now_ns) return;
    const auto index = static_cast<std::uint32_t>(started_);
    clients_[index] = std::make_unique<XmppClient>(env_, static_cast<ClientObserver*>(this),
                                                   share_.first_number + started_, index);
    ++started_;
    clients_[index]->start(intended);
  }
}

bool Runner::pick_pair(std::uint32_t& sender, std::uint32_t& receiver) {
  if (online_.size() < 2) return false;
  std::uniform_int_distribution<std::size_t> any(0, online_.size() - 1);
  for (int attempt = 0; attempt < 8; ++attempt) {
    sender = online_[any(env_.rng)];
    if (options_.peers == PeerMode::kPairs) {
      receiver = sender ^ 1u;
      if (receiver < online_pos_.size() && online_pos_[receiver] != kNone) return true;
    } else {
      receiver = online_[any(env_.rng)];
      if (receiver != sender) return true;
    }
  }
  return false;
}

void Runner::send_messages(std::uint64_t now_ns) {
  if (share_.msg_rate <= 0) return;
  const double per_ns = share_.msg_rate / 1e9;
  for (;;) {
    const auto intended =
        t0_ns_ + static_cast<std::uint64_t>(static_cast<double>(messages_slotted_ + 1) / per_ns);
    if (intended > now_ns) return;
    ++messages_slotted_;
    std::uint32_t from = 0;
    std::uint32_t to = 0;
    // A slot with no pair online (still logging in) is skipped, not postponed.
    if (!pick_pair(from, to)) continue;
    const std::string body = ledger_.compose(from, to, intended, options_.msg_size);
    ++env_.interval.tally.messages_sent;
    clients_[from]->send_chat(clients_[to]->jid(), body);
  }
}

void Runner::on_online(XmppClient& client) {
  const std::uint64_t now = mono_ns();
  ++env_.interval.tally.logins;
  ++final_.sessions_established;
  env_.interval.login.record((now - std::min(now, client.login_started_ns())) / 1000);
  last_login_ns_ = now;
  set_online(client.index(), true);
}

void Runner::on_chat(XmppClient& client, std::string_view body) {
  std::uint64_t latency = 0;
  switch (ledger_.receive(client.index(), body, mono_ns(), latency)) {
    case Ledger::Outcome::kFirst:
      ++env_.interval.tally.messages_received;
      env_.interval.latency.record(latency / 1000);
      break;
    case Ledger::Outcome::kReordered:
      ++env_.interval.tally.messages_received;
      // Overtaken because the client handled a newer answer first (as Strophe.js
      // does), or by the server: only the latter is held against the target.
      if (client.in_late_answer()) {
        ++env_.interval.tally.messages_reordered_by_client;
      } else {
        ++env_.interval.tally.messages_reordered;
      }
      env_.interval.latency.record(latency / 1000);
      break;
    case Ledger::Outcome::kDuplicate: ++env_.interval.tally.messages_duplicated; break;
    case Ledger::Outcome::kEcho: env_.interval.tally.error("message_echoed"); break;
    case Ledger::Outcome::kForeign:
      if (std::getenv("SOAK_DEBUG") != nullptr) {
        std::fprintf(stderr, "soak: session %u got a message not meant for it: %.80s\n",
                     client.index(), std::string(body).c_str());
      }
      env_.interval.tally.error("foreign_message");
      break;
  }
}

void Runner::on_client_ended(XmppClient& client, std::string_view error) {
  ++ended_;
  set_online(client.index(), false);
  if (!error.empty()) ++env_.interval.tally.sessions_ended;
  if (error == kDropEnd) env_.interval.tally.messages_cut_off += ledger_.write_off(client.index());
}

void Runner::set_online(std::uint32_t index, bool online) {
  std::uint32_t& pos = online_pos_[index];
  if (online && pos == kNone) {
    pos = static_cast<std::uint32_t>(online_.size());
    online_.push_back(index);
  } else if (!online && pos != kNone) {
    const std::uint32_t last = online_.back();
    online_[pos] = last;
    online_pos_[last] = pos;
    online_.pop_back();
    pos = kNone;
  }
}

void Runner::emit_interval() {
  Interval& iv = env_.interval;
  iv.sessions = online_.size();
  // Memory per session: once every session of this process is up and has settled
  // since the last login, or at the end of the run phase at the latest.
  // The wait lets spare connections idle out (--conn-idle) so the figure is the
  // idle session's.
  const std::uint64_t settle_ns =
      kSecondNs + static_cast<std::uint64_t>(options_.conn_idle_ms) * 1'000'000;
  if (!loaded_measured_ &&
      ((online_.size() == share_.count && mono_ns() - last_login_ns_ >= settle_ns) ||
       phase_ != Phase::kRun)) {
    loaded_measured_ = true;
    final_.rss_loaded = self_rss_bytes();
    final_.fds_loaded = self_open_sockets();
    final_.sessions_loaded = online_.size();
  }
  ++final_.intervals;
  final_.max_loop_lag_ms = std::max(final_.max_loop_lag_ms, iv.loop_lag_ms);
  if (iv.loop_lag_ms > options_.max_lag_ms) ++final_.lagging_intervals;
  final_.tally.add(iv.tally);
  final_.latency.merge(iv.latency);
  final_.login.merge(iv.login);
  on_interval_(iv);
  const std::uint64_t next = iv.index + 1;
  iv.tally = Tally{};
  iv.latency.clear();
  iv.login.clear();
  iv.loop_lag_ms = 0;
  iv.index = next;
}

void Runner::finish() {
  // What cut sessions sent and never arrived died with their connections.
  env_.interval.tally.messages_cut_off += ledger_.in_doubt();
  emit_interval();
  final_.messages_lost = ledger_.outstanding();
  if (final_.messages_lost > 0 && std::getenv("SOAK_DEBUG") != nullptr) {
    std::fprintf(stderr, "soak: lost messages by pair:\n%s", ledger_.describe_losses(20).c_str());
  }
  final_.cpu_seconds = self_cpu_seconds();
  uv_timer_stop(&tick_);
  uv_close(reinterpret_cast<uv_handle_t*>(&tick_), nullptr);
  for (uv_signal_t& handle : signals_) {
    uv_signal_stop(&handle);
    uv_close(reinterpret_cast<uv_handle_t*>(&handle), nullptr);
  }
  on_final_(final_);
  // Sessions still closing after the grace are dropped with their sockets.
  clients_.clear();
  context_->stop_ticking();
}

}  // namespace sb::soak
