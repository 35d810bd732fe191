// Tally, Interval and Final: merging, and the one-line text form of the pipe.
// Fields are separated by '|', tally entries by spaces as key=value; error kinds
// are sanitized when counted so they never contain a separator.
#include "tools/soak/stats.hpp"

#include <dirent.h>
#include <sys/resource.h>
#include <unistd.h>

#include <charconv>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <vector>

namespace sb::soak {

namespace {

std::vector<std::string_view> split(std::string_view text, char sep) {
  std::vector<std::string_view> out;
  std::size_t start = 0;
  for (;;) {
    const std::size_t at = text.find(sep, start);
    out.push_back(
        text.substr(start, at == std::string_view::npos ? std::string_view::npos : at - start));
    if (at == std::string_view::npos) return out;
    start = at + 1;
  }
}

bool u64(std::string_view text, std::uint64_t& out) {
  auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), out);
  return ec == std::errc() && ptr == text.data() + text.size();
}

bool dbl(std::string_view text, double& out) {
  const std::string copy(text);
  char* end = nullptr;
  out = std::strtod(copy.c_str(), &end);
  return end != nullptr && *end == '\0' && !copy.empty();
}

std::string num(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.3f", v);
  return buf;
}

// The counters of a Tally by name, for the text form.
template <typename T, typename F>
void each_counter(T& t, F&& f) {
  f("logins", t.logins);
  f("attempts", t.login_attempts);
  f("ended", t.sessions_ended);
  f("sent", t.messages_sent);
  f("received", t.messages_received);
  f("dup", t.messages_duplicated);
  f("reordered", t.messages_reordered);
  f("reordered_client", t.messages_reordered_by_client);
  f("cutoff", t.messages_cut_off);
  f("requests", t.requests);
  f("drops", t.drops);
  f("resends", t.resends);
  f("connections", t.connections);
  f("refusals", t.login_refusals);
  f("refused", t.logins_refused);
  f("refused_in", t.logins_refused_then_in);
  f("refused_gave_up", t.logins_refused_gave_up);
  f("errors", t.errors);
}

}  // namespace

void Tally::error(std::string_view kind) {
  std::string clean(kind);
  for (char& c : clean) {
    if (c == ' ' || c == '|' || c == '=' || c == '\n' || c == '"' || c == '\\') c = '_';
  }
  ++errors;
  ++errors_by_kind[clean];
}

void Tally::add(const Tally& o) {
  logins += o.logins;
  login_attempts += o.login_attempts;
  sessions_ended += o.sessions_ended;
  messages_sent += o.messages_sent;
  messages_received += o.messages_received;
  messages_duplicated += o.messages_duplicated;
  messages_reordered += o.messages_reordered;
  messages_reordered_by_client += o.messages_reordered_by_client;
  messages_cut_off += o.messages_cut_off;
  requests += o.requests;
  drops += o.drops;
  resends += o.resends;
  connections += o.connections;
  login_refusals += o.login_refusals;
  logins_refused += o.logins_refused;
  logins_refused_then_in += o.logins_refused_then_in;
  logins_refused_gave_up += o.logins_refused_gave_up;
  errors += o.errors;
  for (const auto& [kind, n] : o.errors_by_kind) errors_by_kind[kind] += n;
}

std::string Tally::serialize() const {
  std::string out;
  each_counter(*this, [&](const char* name, std::uint64_t v) {
    if (!out.empty()) out += ' ';
    out += name;
    out += '=';
    out += std::to_string(v);
  });
  for (const auto& [kind, n] : errors_by_kind) out += " e:" + kind + "=" + std::to_string(n);
  return out;
}

bool Tally::deserialize(std::string_view text) {
  *this = Tally{};
  for (std::string_view item : split(text, ' ')) {
    if (item.empty()) continue;
    const std::size_t eq = item.rfind('=');
    if (eq == std::string_view::npos) return false;
    const std::string_view key = item.substr(0, eq);
    std::uint64_t v = 0;
    if (!u64(item.substr(eq + 1), v)) return false;
    if (key.substr(0, 2) == "e:") {
      errors_by_kind[std::string(key.substr(2))] += v;
      continue;
    }
    bool known = false;
    each_counter(*this, [&](const char* name, std::uint64_t& field) {
      if (key == name) {
        field = v;
        known = true;
      }
    });
    if (!known) return false;
  }
  return true;
}

std::string Interval::serialize() const {
  return "I|" + std::to_string(index) + "|" + std::to_string(sessions) + "|" + num(loop_lag_ms) +
         "|" + tally.serialize() + "|" + latency.serialize() + "|" + login.serialize();
}

bool Interval::deserialize(std::string_view line) {
  const auto f = split(line, '|');
  return f.size() == 7 && f[0] == "I" && u64(f[1], index) && u64(f[2], sessions) &&
         dbl(f[3], loop_lag_ms) && tally.deserialize(f[4]) && latency.deserialize(f[5]) &&
         login.deserialize(f[6]);
}

void Final::merge(const Final& o) {
  sessions_target += o.sessions_target;
  sessions_established += o.sessions_established;
  messages_lost += o.messages_lost;
  rss_baseline += o.rss_baseline;
  rss_loaded += o.rss_loaded;
  fds_baseline += o.fds_baseline;
  fds_loaded += o.fds_loaded;
  sessions_loaded += o.sessions_loaded;
  cpu_seconds += o.cpu_seconds;
  if (o.max_loop_lag_ms > max_loop_lag_ms) max_loop_lag_ms = o.max_loop_lag_ms;
  lagging_intervals += o.lagging_intervals;
  if (o.intervals > intervals) intervals = o.intervals;
  if (source.empty()) source = o.source;
  tally.add(o.tally);
  latency.merge(o.latency);
  login.merge(o.login);
}

std::string Final::serialize() const {
  std::string out = "F";
  for (std::uint64_t v : {sessions_target, sessions_established, messages_lost, rss_baseline,
                          rss_loaded, fds_baseline, fds_loaded, sessions_loaded}) {
    out += '|';
    out += std::to_string(v);
  }
  out += "|" + num(cpu_seconds) + "|" + num(max_loop_lag_ms) + "|" +
         std::to_string(lagging_intervals) + "|" + std::to_string(intervals) + "|" + source + "|" +
         tally.serialize() + "|" + latency.serialize() + "|" + login.serialize();
  return out;
}

bool Final::deserialize(std::string_view line) {
  const auto f = split(line, '|');
  if (f.size() != 17 || f[0] != "F") return false;
  std::uint64_t* ints[] = {&sessions_target, &sessions_established, &messages_lost,
                           &rss_baseline,    &rss_loaded,           &fds_baseline,
                           &fds_loaded,      &sessions_loaded};
  for (std::size_t i = 0; i < 8; ++i) {
    if (!u64(f[i + 1], *ints[i])) return false;
  }
  source = std::string(f[13]);
  return dbl(f[9], cpu_seconds) && dbl(f[10], max_loop_lag_ms) && u64(f[11], lagging_intervals) &&
         u64(f[12], intervals) && tally.deserialize(f[14]) && latency.deserialize(f[15]) &&
         login.deserialize(f[16]);
}

std::uint64_t self_rss_bytes() {
  std::ifstream in("/proc/self/statm");
  std::uint64_t size = 0;
  std::uint64_t resident = 0;
  if (!(in >> size >> resident)) return 0;
  return resident * static_cast<std::uint64_t>(sysconf(_SC_PAGESIZE));
}

// Sockets only: libuv opens a few descriptors of its own lazily (/dev/null
// reserves, pipes), which must not count as a session's.
std::uint64_t self_open_sockets() {
  DIR* dir = opendir("/proc/self/fd");
  if (dir == nullptr) return 0;
  std::uint64_t n = 0;
  char target[64];
  while (const dirent* e = readdir(dir)) {
    if (e->d_name[0] == '.') continue;
    const std::string link = std::string("/proc/self/fd/") + e->d_name;
    const ssize_t len = readlink(link.c_str(), target, sizeof target - 1);
    if (len > 7 &&
        std::string_view(target, static_cast<std::size_t>(len)).substr(0, 7) == "socket:")
      ++n;
  }
  closedir(dir);
  return n;
}

double self_cpu_seconds() {
  rusage ru{};
  getrusage(RUSAGE_SELF, &ru);
  return static_cast<double>(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) +
         static_cast<double>(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6;
}

}  // namespace sb::soak
