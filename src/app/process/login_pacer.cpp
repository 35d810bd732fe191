// Overload control for logins; see login_pacer.hpp.
#include "app/process/login_pacer.hpp"

#include <algorithm>
#include <numeric>

#include "app/log/log.hpp"

namespace sb::app {

const char* LoginRate::end_window(const Window& window) {
  // Without logins there is nothing to learn: a lag then is someone else's.
  if (window.logins == 0) return "";
  const char* why = "";
  if (window.max_lag_ms > targets_.lag_ms) {
    why = "the loop lagged";
  } else if (window.failed > 0) {
    why = "openings failed";
  } else if (window.max_opening_ms > targets_.opening_ms) {
    why = "openings were slow";
  }
  if (*why != '\0') {
    const bool far_behind = window.max_lag_ms > 4 * targets_.lag_ms;
    rate_ = std::max(kMinRate, rate_ * (far_behind ? 0.5 : 0.75));
  } else if (window.starved) {
    rate_ = std::min(max_, rate_ + std::max(1.0, rate_ / 8));
  }
  return why;
}

LoginPacer::LoginPacer(uv_loop_t* loop, LoginPacerSettings settings, xmpp::LinkObserver* next)
    : loop_(loop),
      settings_(settings),
      next_(next),
      rate_(std::min(settings.initial_rate, settings.max_rate), settings.max_rate,
            LoginRate::Targets{kLagTargetMs, kOpeningTargetMs}),
      jitter_(static_cast<std::uint32_t>(uv_hrtime())) {
  tokens_ = rate_.rate();
  uv_timer_init(loop_, &probe_);
  probe_.data = this;
  // Unreferenced: it never keeps a loop alive that has nothing else to do.
  uv_unref(reinterpret_cast<uv_handle_t*>(&probe_));
  last_probe_ms_ = window_start_ms_ = uv_now(loop_);
  uv_timer_start(&probe_, &LoginPacer::on_probe, kProbeMs, kProbeMs);
}

void LoginPacer::close() {
  if (uv_is_closing(reinterpret_cast<uv_handle_t*>(&probe_)) == 0) {
    uv_close(reinterpret_cast<uv_handle_t*>(&probe_), nullptr);
  }
}

void LoginPacer::update(const LoginPacerSettings& settings) {
  const double rate = std::min(rate_.rate(), settings.max_rate);
  settings_ = settings;
  rate_ = LoginRate(rate, settings.max_rate, LoginRate::Targets{kLagTargetMs, kOpeningTargetMs});
}

bool LoginPacer::room() const {
  return in_progress_ < settings_.max_in_progress && oldest_opening_ms() <= kMaxOpeningAgeMs;
}

bool LoginPacer::take_token() {
  if (tokens_ < 1) return false;
  tokens_ -= 1;
  ++counters_.admitted;
  ++admitted_in_window_;
  return true;
}

engine::LoginGate::Decision LoginPacer::decide(std::size_t waiting, bool can_queue) {
  if (settings_.max_in_progress == 0) return {};  // pacing off
  ++window_.logins;
  const bool has_room = room();
  if (has_room && waiting == 0 && take_token()) return {};
  if (has_room) window_.starved = true;  // the rate, not the server, said no
  // Queued, it starts within (waiting + 1) / rate seconds, if the server keeps up.
  const double wait_ms = 1000.0 * static_cast<double>(waiting + 1) / rate_.rate();
  if (can_queue && has_room && wait_ms <= static_cast<double>(kMaxQueueWaitMs)) {
    ++counters_.queued;
    return {Verdict::kQueue, 0};
  }
  ++counters_.refused;
  ++refused_in_window_;
  return {Verdict::kRefuse, retry_after()};
}

bool LoginPacer::admit_queued() { return room() && take_token(); }

std::uint32_t LoginPacer::retry_after() {
  // Jittered so that refused clients that honour it do not come back as one
  // wave; the more this worker refuses, the wider the spread (2 to 10 seconds).
  const std::uint64_t offered = refused_in_window_ + admitted_in_window_;
  const std::uint64_t pressure = admitted_in_window_ == 0 ? 9 : offered / admitted_in_window_;
  const std::uint32_t spread =
      static_cast<std::uint32_t>(std::clamp<std::uint64_t>(pressure, 2, 10));
  return 1 + static_cast<std::uint32_t>(jitter_() % spread);
}

void LoginPacer::on_probe(uv_timer_t* timer) {
  auto& self = *static_cast<LoginPacer*>(timer->data);
  // uv_now() is the time this loop turn began: how much later than due the probe
  // runs is how long the loop was busy with something else.
  const std::uint64_t now = uv_now(self.loop_);
  const std::uint64_t late =
      now - self.last_probe_ms_ > kProbeMs ? now - self.last_probe_ms_ - kProbeMs : 0;
  self.last_probe_ms_ = now;
  self.window_.max_lag_ms = std::max(self.window_.max_lag_ms, late);
  // Tokens for the time since the last probe, up to a quarter second's worth.
  const double rate = self.rate_.rate();
  self.tokens_ = std::min(std::max(LoginRate::kMinRate, rate / 4),
                          self.tokens_ + rate * static_cast<double>(kProbeMs + late) / 1000.0);
  if (now - self.window_start_ms_ >= kWindowMs) self.end_window();
  if (self.on_room_) self.on_room_();  // queued logins whose turn has come
}

void LoginPacer::end_window() {
  const double before = rate_.rate();
  const char* why = rate_.end_window(window_);
  if (*why != '\0' && before > LoginRate::kMinRate) {
    SB_LOG_DEBUG(
        "login rate %.0f -> %.0f/s: %s (lag %llu ms, %llu opened, %llu failed, slowest %llu ms)",
        before, rate_.rate(), why, static_cast<unsigned long long>(window_.max_lag_ms),
        static_cast<unsigned long long>(window_.opened),
        static_cast<unsigned long long>(window_.failed),
        static_cast<unsigned long long>(window_.max_opening_ms));
  }
  // The per-second counts of openings must add up to those in progress: a link
  // that told a start a second off may have left a stray count behind.
  std::uint64_t counted =
      std::accumulate(started_in_second_.begin(), started_in_second_.end(), std::uint64_t{0});
  const std::uint64_t second = uv_now(loop_) / 1000;
  for (std::size_t back = kAgeSlots; back > 0 && counted > in_progress_; --back) {
    std::uint32_t& slot = started_in_second_[(second + kAgeSlots + 1 - back) % kAgeSlots];
    const std::uint64_t take = std::min<std::uint64_t>(slot, counted - in_progress_);
    slot -= static_cast<std::uint32_t>(take);
    counted -= take;
  }
  // The slot the next second will use starts empty (what it held is 16 s old).
  started_in_second_[(second + 1) % kAgeSlots] = 0;
  window_ = LoginRate::Window{};
  refused_in_window_ = admitted_in_window_ = 0;
  window_start_ms_ = uv_now(loop_);
}

std::uint64_t LoginPacer::oldest_opening_ms() const {
  if (in_progress_ == 0) return 0;
  const std::uint64_t now = uv_now(loop_);
  const std::uint64_t second = now / 1000;
  for (std::size_t back = kAgeSlots - 1; back > 0; --back) {
    if (started_in_second_[(second + kAgeSlots - back) % kAgeSlots] != 0) {
      return now - (second - back) * 1000;
    }
  }
  return now - second * 1000;
}

void LoginPacer::link_opening() {
  ++in_progress_;
  ++started_in_second_[(uv_now(loop_) / 1000) % kAgeSlots];
  if (next_ != nullptr) next_->link_opening();
}

void LoginPacer::link_open_ended(OpenOutcome outcome, std::uint64_t millis) {
  if (in_progress_ > 0) --in_progress_;
  const std::uint64_t now = uv_now(loop_);
  const std::uint64_t started = (now > millis ? now - millis : 0) / 1000;
  // Its own second, or the next one (the wheel's clock may be a tick behind).
  for (std::uint64_t second : {started, started + 1, started - 1}) {
    std::uint32_t& slot = started_in_second_[second % kAgeSlots];
    if (slot > 0) {
      --slot;
      break;
    }
  }
  switch (outcome) {
    case OpenOutcome::kOpened:
      ++counters_.opened;
      counters_.opening_ms_sum += millis;
      ++window_.opened;
      window_.max_opening_ms = std::max(window_.max_opening_ms, millis);
      break;
    case OpenOutcome::kFailed:
      ++counters_.failed;
      ++window_.failed;
      break;
    case OpenOutcome::kAbandoned: break;
  }
  if (next_ != nullptr) next_->link_open_ended(outcome, millis);
}

void LoginPacer::link_connected(std::uint64_t micros) {
  if (next_ != nullptr) next_->link_connected(micros);
}
void LoginPacer::link_connect_failed() {
  if (next_ != nullptr) next_->link_connect_failed();
}
void LoginPacer::link_bytes_sent(std::size_t bytes) {
  if (next_ != nullptr) next_->link_bytes_sent(bytes);
}
void LoginPacer::link_bytes_received(std::size_t bytes) {
  if (next_ != nullptr) next_->link_bytes_received(bytes);
}
void LoginPacer::link_stanza_received() {
  if (next_ != nullptr) next_->link_stanza_received();
}

}  // namespace sb::app
