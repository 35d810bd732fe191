// The key table: for every config key, how its text is checked and stored, and
// how the stored value is written back. See config.hpp for the big picture.
//
// Numeric keys are instances of two small templates parameterised by the Config
// member and the allowed range, so adding a key is one table line and its error
// message ("'max_wait' must be a whole number of seconds from 1 to 3600, got
// 'abc'") states the range automatically.
#include "app/config.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <array>
#include <cctype>
#include <cerrno>
#include <cstring>
#include <initializer_list>

#include "net/address_blocks.hpp"
#include "net/source_pool.hpp"
#include "net/tls_server_context.hpp"

namespace sb::app {
namespace {

constexpr std::uint64_t kKiB = 1024;
constexpr std::uint64_t kMiB = 1024 * 1024;
constexpr std::size_t kMaxNodeIdChars = 8;

using Error = std::optional<std::string>;

std::string quoted(std::string_view text) { return "'" + std::string(text) + "'"; }

// Digits only: no sign, no spaces, no hex. Rejects values that overflow 64 bits.
std::optional<std::uint64_t> parse_unsigned(std::string_view text) {
  if (text.empty() || text.size() > 19) return std::nullopt;  // 19 digits always fit
  std::uint64_t value = 0;
  for (char c : text) {
    if (c < '0' || c > '9') return std::nullopt;
    value = value * 10 + static_cast<std::uint64_t>(c - '0');
  }
  return value;
}

// An integer with an optional k (KiB) or m (MiB) suffix, either case.
std::optional<std::uint64_t> parse_size(std::string_view text) {
  std::uint64_t unit = 1;
  if (!text.empty()) {
    const char last = static_cast<char>(std::tolower(static_cast<unsigned char>(text.back())));
    if (last == 'k') unit = kKiB;
    if (last == 'm') unit = kMiB;
    if (unit != 1) text.remove_suffix(1);
  }
  const auto number = parse_unsigned(text);
  if (!number || *number > UINT64_MAX / unit) return std::nullopt;
  return *number * unit;
}

// The shortest exact spelling: "64k", "1m", "1000".
std::string format_size(std::uint64_t bytes) {
  if (bytes != 0 && bytes % kMiB == 0) return std::to_string(bytes / kMiB) + "m";
  if (bytes != 0 && bytes % kKiB == 0) return std::to_string(bytes / kKiB) + "k";
  return std::to_string(bytes);
}

std::vector<std::string_view> split_words(std::string_view text) {
  std::vector<std::string_view> words;
  std::size_t i = 0;
  while (i < text.size()) {
    while (i < text.size() && (text[i] == ' ' || text[i] == '\t')) ++i;
    const std::size_t start = i;
    while (i < text.size() && text[i] != ' ' && text[i] != '\t') ++i;
    if (i > start) words.push_back(text.substr(start, i - start));
  }
  return words;
}

std::string lower(std::string_view text) {
  std::string out(text);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

std::string join(const std::vector<std::string>& words) {
  std::string out;
  for (const auto& word : words) {
    if (!out.empty()) out.push_back(' ');
    out.append(word);
  }
  return out;
}

// ---- numbers ---------------------------------------------------------------

// A function rather than an inline comparison so a minimum of 0 in a template
// instance does not trip "comparison is always false" warnings.
bool in_range(std::uint64_t value, std::uint64_t min, std::uint64_t max) {
  return value >= min && value <= max;
}

enum class Unit { kSeconds, kCount };

template <std::uint32_t Config::*Field, std::uint32_t Min, std::uint32_t Max, Unit kUnit>
Error set_number(Config& config, std::string_view key, std::string_view value) {
  const auto number = parse_unsigned(value);
  if (!number || !in_range(*number, Min, Max)) {
    const char* what = kUnit == Unit::kSeconds ? "a whole number of seconds" : "a whole number";
    return quoted(key) + " must be " + what + " from " + std::to_string(Min) + " to " +
           std::to_string(Max) + ", got " + quoted(value);
  }
  config.*Field = static_cast<std::uint32_t>(*number);
  return std::nullopt;
}

template <std::uint32_t Config::*Field>
std::string show_number(const Config& config) {
  return std::to_string(config.*Field);
}

template <std::size_t Config::*Field, std::uint64_t Min, std::uint64_t Max>
Error set_size(Config& config, std::string_view key, std::string_view value) {
  const auto bytes = parse_size(value);
  if (!bytes || !in_range(*bytes, Min, Max)) {
    return quoted(key) + " must be a size in bytes from " + format_size(Min) + " to " +
           format_size(Max) + " (a number with an optional k or m suffix), got " + quoted(value);
  }
  config.*Field = static_cast<std::size_t>(*bytes);
  return std::nullopt;
}

template <std::size_t Config::*Field>
std::string show_size(const Config& config) {
  return format_size(config.*Field);
}

// `workers`: a count, or auto (stored as 0, as is a literal 0).
Error set_workers(Config& config, std::string_view key, std::string_view value) {
  if (value == "auto") {
    config.workers = 0;
    return std::nullopt;
  }
  const auto number = parse_unsigned(value);
  if (!number || *number > 1024) {
    return quoted(key) + " must be auto or a whole number from 0 to 1024, got " + quoted(value);
  }
  config.workers = static_cast<std::uint32_t>(*number);
  return std::nullopt;
}
std::string show_workers(const Config& config) {
  return config.workers == 0 ? "auto" : std::to_string(config.workers);
}

// ---- addresses ---------------------------------------------------------------

Error address_error(std::string_view key, std::string_view value, const std::string& reason) {
  return quoted(key) + " must be host:port or [IPv6]:port: " + reason + " in " + quoted(value);
}

Error set_listen(Config& config, std::string_view key, std::string_view value) {
  std::string reason;
  auto address = parse_host_port(value, &reason);
  if (!address) return address_error(key, value, reason);
  if (!is_ip_literal(address->host)) {
    return quoted(key) + " must be an IP address and port, like 127.0.0.1:5280 or [::]:5280 " +
           "(no host names), got " + quoted(value);
  }
  config.listen = std::move(*address);
  return std::nullopt;
}
std::string show_listen(const Config& config) { return config.listen.to_string(); }

Error set_tls_listen(Config& config, std::string_view key, std::string_view value) {
  if (value.empty()) {
    config.tls_listen.reset();
    return std::nullopt;
  }
  Config probe;
  if (auto error = set_listen(probe, key, value)) return error;
  config.tls_listen = std::move(probe.listen);
  return std::nullopt;
}
std::string show_tls_listen(const Config& config) {
  return config.tls_listen ? config.tls_listen->to_string() : std::string();
}

// Whether the files load is checked by validate_config, after overrides.
template <std::string Config::*Field>
Error set_path(Config& config, std::string_view, std::string_view value) {
  config.*Field = std::string(value);
  return std::nullopt;
}
template <std::string Config::*Field>
std::string show_path(const Config& config) {
  return config.*Field;
}

Error set_upstream(Config& config, std::string_view key, std::string_view value) {
  if (value.empty()) {
    config.upstream.reset();
    return std::nullopt;
  }
  std::string reason;
  auto address = parse_host_port(value, &reason);
  if (!address) return address_error(key, value, reason);
  config.upstream = std::move(*address);
  return std::nullopt;
}
std::string show_upstream(const Config& config) {
  return config.upstream ? config.upstream->to_string() : std::string();
}

Error set_allowed_routes(Config& config, std::string_view key, std::string_view value) {
  std::vector<HostPort> routes;
  for (std::string_view word : split_words(value)) {
    std::string reason;
    auto address = parse_host_port(word, &reason);
    if (!address) return address_error(key, word, reason);
    routes.push_back(std::move(*address));
  }
  config.allowed_routes = std::move(routes);
  return std::nullopt;
}
std::string show_allowed_routes(const Config& config) {
  std::vector<std::string> words;
  for (const auto& route : config.allowed_routes) words.push_back(route.to_string());
  return join(words);
}

// Checked by parsing it as the connector will; stored as space-separated words.
Error set_upstream_source_addresses(Config& config, std::string_view key, std::string_view value) {
  std::string reason;
  if (!net::SourcePool::parse(value, reason)) {
    return quoted(key) + " must be IP addresses and ranges like 127.0.0.2-127.0.0.50 or " +
           "fd00::1-fd00::ff, separated by spaces: " + reason;
  }
  std::vector<std::string> words;
  for (std::string_view word : split_words(value)) words.emplace_back(word);
  config.upstream_source_addresses = join(words);
  return std::nullopt;
}
std::string show_upstream_source_addresses(const Config& config) {
  return config.upstream_source_addresses;
}

// ---- strings -------------------------------------------------------------------

// An Origin header value is scheme://host[:port] and nothing else; browsers send
// it lower-case, so the list is stored lower-case for a plain compare.
bool valid_origin(std::string_view origin) {
  std::string_view rest;
  if (origin.starts_with("http://")) {
    rest = origin.substr(7);
  } else if (origin.starts_with("https://")) {
    rest = origin.substr(8);
  } else {
    return false;
  }
  if (rest.empty()) return false;
  for (char c : rest) {
    if (c == '/' || c == '?' || c == '#' || std::isgraph(static_cast<unsigned char>(c)) == 0) {
      return false;
    }
  }
  return true;
}

Error set_cors_origins(Config& config, std::string_view key, std::string_view value) {
  std::vector<std::string> origins;
  for (std::string_view word : split_words(value)) {
    if (word != "*" && !valid_origin(word)) {
      return quoted(key) + " entries must be * or scheme://host[:port] like " +
             "https://chat.example.com, got " + quoted(word);
    }
    origins.push_back(lower(word));
  }
  config.cors_origins = std::move(origins);
  return std::nullopt;
}
std::string show_cors_origins(const Config& config) { return join(config.cors_origins); }

Error set_bosh_path(Config& config, std::string_view key, std::string_view value) {
  bool ok = value.starts_with('/');
  for (char c : value) {
    if (c == '?' || c == '#' || std::isgraph(static_cast<unsigned char>(c)) == 0) ok = false;
  }
  if (!ok) {
    return quoted(key) + " must be a URL path starting with '/' (no spaces, '?' or '#'), got " +
           quoted(value);
  }
  config.bosh_path = std::string(value);
  return std::nullopt;
}
std::string show_bosh_path(const Config& config) { return config.bosh_path; }

Error set_websocket_path(Config& config, std::string_view key, std::string_view value) {
  if (value.empty()) {  // WebSocket off
    config.websocket_path.clear();
    return std::nullopt;
  }
  Config probe;
  if (set_bosh_path(probe, key, value)) {
    return quoted(key) + " must be empty (off) or a URL path starting with '/' (no spaces, '?' "
           "or '#'), got " + quoted(value);
  }
  config.websocket_path = std::string(value);
  return std::nullopt;
}
std::string show_websocket_path(const Config& config) { return config.websocket_path; }

// An absolute URL without spaces, of one of `schemes` ("http", "https"...).
bool valid_url(std::string_view url, std::initializer_list<std::string_view> schemes) {
  for (std::string_view scheme : schemes) {
    if (url.size() > scheme.size() + 3 && url.starts_with(scheme) &&
        url.substr(scheme.size(), 3) == "://") {
      for (char c : url) {
        if (std::isgraph(static_cast<unsigned char>(c)) == 0 || c == '"' || c == '<' || c == '>') {
          return false;
        }
      }
      return true;
    }
  }
  return false;
}

template <std::string Config::*kMember>
Error set_public_url(Config& config, std::string_view key, std::string_view value) {
  const bool websocket = kMember == &Config::public_websocket_url;
  if (!value.empty() && !(websocket ? valid_url(value, {"ws", "wss"})
                                    : valid_url(value, {"http", "https"}))) {
    return quoted(key) + " must be empty (from the request's Host) or a full " +
           (websocket ? "ws:// or wss://" : "http:// or https://") + " URL, got " + quoted(value);
  }
  config.*kMember = std::string(value);
  return std::nullopt;
}
template <std::string Config::*kMember>
std::string show_public_url(const Config& config) { return config.*kMember; }

// Whether the directory exists is checked by validate_config, after overrides.
Error set_demo_root(Config& config, std::string_view, std::string_view value) {
  config.demo_root = std::string(value);
  return std::nullopt;
}
std::string show_demo_root(const Config& config) { return config.demo_root; }

// The node id starts every sid and is matched by an L7 router's rules, so it is
// kept to a few plain letters and digits.
Error set_node_id(Config& config, std::string_view key, std::string_view value) {
  bool ok = value.size() <= kMaxNodeIdChars;
  for (char c : value) {
    if (std::isalnum(static_cast<unsigned char>(c)) == 0) ok = false;
  }
  if (!ok) {
    return quoted(key) + " must be at most " + std::to_string(kMaxNodeIdChars) +
           " letters and digits, got " + quoted(value);
  }
  config.node_id = std::string(value);
  return std::nullopt;
}
std::string show_node_id(const Config& config) { return config.node_id; }

Error set_log_level_key(Config& config, std::string_view key, std::string_view value) {
  const auto level = log_level_from_name(value);
  if (!level) return quoted(key) + " must be one of error, warn, info, debug, got " + quoted(value);
  config.log_level = *level;
  return std::nullopt;
}
std::string show_log_level(const Config& config) {
  return std::string(log_level_name(config.log_level));
}

// Whether the file can be opened for appending is checked by validate_config.
Error set_log_file(Config& config, std::string_view, std::string_view value) {
  config.log_file = std::string(value);
  return std::nullopt;
}
std::string show_log_file(const Config& config) { return config.log_file; }

// ---- TLS towards the XMPP server -----------------------------------------------

Error set_upstream_tls(Config& config, std::string_view key, std::string_view value) {
  const auto mode = xmpp::tls_mode_from_name(value);
  if (!mode) return quoted(key) + " must be one of auto, required, off, direct, got " + quoted(value);
  config.upstream_tls = *mode;
  return std::nullopt;
}
std::string show_upstream_tls(const Config& config) {
  return std::string(xmpp::tls_mode_name(config.upstream_tls));
}

Error set_upstream_tls_verify(Config& config, std::string_view key, std::string_view value) {
  if (value != "true" && value != "false") {
    return quoted(key) + " must be true or false, got " + quoted(value);
  }
  config.upstream_tls_verify = value == "true";
  return std::nullopt;
}
std::string show_upstream_tls_verify(const Config& config) {
  return config.upstream_tls_verify ? "true" : "false";
}

Error set_upstream_tls_loopback(Config& config, std::string_view key, std::string_view value) {
  if (value != "true" && value != "false") {
    return quoted(key) + " must be true or false, got " + quoted(value);
  }
  config.upstream_tls_loopback = value == "true";
  return std::nullopt;
}
std::string show_upstream_tls_loopback(const Config& config) {
  return config.upstream_tls_loopback ? "true" : "false";
}

// Whether the file can be read is checked by validate_config, after overrides.
Error set_upstream_tls_ca_file(Config& config, std::string_view, std::string_view value) {
  config.upstream_tls_ca_file = std::string(value);
  return std::nullopt;
}
std::string show_upstream_tls_ca_file(const Config& config) { return config.upstream_tls_ca_file; }

// ---- front proxies and metrics -------------------------------------------------

template <bool Config::*Member>
Error set_flag(Config& config, std::string_view key, std::string_view value) {
  if (value != "true" && value != "false") {
    return quoted(key) + " must be true or false, got " + quoted(value);
  }
  config.*Member = value == "true";
  return std::nullopt;
}
template <bool Config::*Member>
std::string show_flag(const Config& config) {
  return config.*Member ? "true" : "false";
}

// Checked by parsing it as the workers will; stored as space-separated words.
Error set_trusted_proxies(Config& config, std::string_view key, std::string_view value) {
  std::string reason;
  if (!net::AddressBlocks::parse(value, reason)) {
    return quoted(key) + " must be IP addresses and CIDR blocks like 10.0.0.0/8 or ::1, " +
           "separated by spaces: " + reason;
  }
  std::vector<std::string> words;
  for (std::string_view word : split_words(value)) words.emplace_back(word);
  config.trusted_proxies = join(words);
  return std::nullopt;
}
std::string show_trusted_proxies(const Config& config) { return config.trusted_proxies; }

// true means version 2, the binary header, which every server that reads one
// (ejabberd, Prosody's mod_net_proxy) accepts.
Error set_upstream_proxy_protocol(Config& config, std::string_view key, std::string_view value) {
  if (value == "false") {
    config.upstream_proxy_protocol = 0;
  } else if (value == "v1") {
    config.upstream_proxy_protocol = 1;
  } else if (value == "true" || value == "v2") {
    config.upstream_proxy_protocol = 2;
  } else {
    return quoted(key) + " must be one of false, true (= v2), v1, v2, got " + quoted(value);
  }
  return std::nullopt;
}
std::string show_upstream_proxy_protocol(const Config& config) {
  return config.upstream_proxy_protocol == 0   ? "false"
         : config.upstream_proxy_protocol == 1 ? "v1"
                                               : "v2";
}

Error set_metrics_listen(Config& config, std::string_view key, std::string_view value) {
  if (value.empty()) {
    config.metrics_listen.reset();
    return std::nullopt;
  }
  std::string reason;
  auto address = parse_host_port(value, &reason);
  if (!address) return address_error(key, value, reason);
  if (!is_ip_literal(address->host)) {
    return quoted(key) + " must be an IP address and port, like 127.0.0.1:9280 " +
           "(no host names), got " + quoted(value);
  }
  config.metrics_listen = std::move(*address);
  return std::nullopt;
}
std::string show_metrics_listen(const Config& config) {
  return config.metrics_listen ? config.metrics_listen->to_string() : std::string();
}

// ---- the table -------------------------------------------------------------------

struct KeySpec {
  std::string_view name;
  Error (*apply)(Config& config, std::string_view key, std::string_view value);
  std::string (*show)(const Config& config);
  // What a SIGHUP may change: a key the worker cannot apply while running stays
  // kRestart, the safe default for a new key until its worker side is written.
  Reload reload = Reload::kRestart;
  Shape shape = Shape::kScalar;
};

constexpr Reload kLive = Reload::kLive;
constexpr Reload kRestart = Reload::kRestart;

constexpr std::uint32_t kDay = 86400;

const std::array kKeys{
    KeySpec{"listen", set_listen, show_listen, kRestart},
    KeySpec{"tls_listen", set_tls_listen, show_tls_listen, kRestart},
    // Live: a SIGHUP loads the new pair for TLS connections accepted from then on.
    KeySpec{"tls_cert_file", set_path<&Config::tls_cert_file>, show_path<&Config::tls_cert_file>,
            kLive},
    KeySpec{"tls_key_file", set_path<&Config::tls_key_file>, show_path<&Config::tls_key_file>,
            kLive},
    // At most 3.5 days: a ticket lives two periods, and TLS 1.3 allows 7 days.
    KeySpec{"tls_ticket_rotation",
            set_number<&Config::tls_ticket_rotation, 0, 7 * kDay / 2, Unit::kSeconds>,
            show_number<&Config::tls_ticket_rotation>, kRestart},
    KeySpec{"bosh_path", set_bosh_path, show_bosh_path, kRestart},
    KeySpec{"websocket_path", set_websocket_path, show_websocket_path, kRestart},
    KeySpec{"public_bosh_url", set_public_url<&Config::public_bosh_url>,
            show_public_url<&Config::public_bosh_url>, kRestart},
    KeySpec{"public_websocket_url", set_public_url<&Config::public_websocket_url>,
            show_public_url<&Config::public_websocket_url>, kRestart},
    KeySpec{"workers", set_workers, show_workers, kRestart},
    // Live: the supervisor and the workers take a new value on SIGHUP.
    KeySpec{"worker_hang_timeout",
            set_number<&Config::worker_hang_timeout, 0, 3600, Unit::kSeconds>,
            show_number<&Config::worker_hang_timeout>, kLive},
    KeySpec{"upstream", set_upstream, show_upstream, kLive},
    KeySpec{"allowed_routes", set_allowed_routes, show_allowed_routes, kLive, Shape::kList},
    KeySpec{"cors_origins", set_cors_origins, show_cors_origins, kLive, Shape::kList},
    KeySpec{"demo_root", set_demo_root, show_demo_root, kRestart},
    KeySpec{"node_id", set_node_id, show_node_id, kRestart},
    KeySpec{"max_wait", set_number<&Config::max_wait, 1, 3600, Unit::kSeconds>,
            show_number<&Config::max_wait>, kLive},
    KeySpec{"default_wait", set_number<&Config::default_wait, 1, 3600, Unit::kSeconds>,
            show_number<&Config::default_wait>, kLive},
    KeySpec{"max_hold", set_number<&Config::max_hold, 1, 16, Unit::kCount>,
            show_number<&Config::max_hold>, kLive},
    KeySpec{"inactivity", set_number<&Config::inactivity, 1, kDay, Unit::kSeconds>,
            show_number<&Config::inactivity>, kLive},
    KeySpec{"polling", set_number<&Config::polling, 0, 3600, Unit::kSeconds>,
            show_number<&Config::polling>, kLive},
    KeySpec{"maxpause", set_number<&Config::maxpause, 0, kDay, Unit::kSeconds>,
            show_number<&Config::maxpause>, kLive},
    KeySpec{"websocket_ping_interval",
            set_number<&Config::websocket_ping_interval, 1, 3600, Unit::kSeconds>,
            show_number<&Config::websocket_ping_interval>, kLive},
    KeySpec{"websocket_pong_timeout",
            set_number<&Config::websocket_pong_timeout, 1, 3600, Unit::kSeconds>,
            show_number<&Config::websocket_pong_timeout>, kLive},
    KeySpec{"max_body_bytes", set_size<&Config::max_body_bytes, kKiB, 16 * kMiB>,
            show_size<&Config::max_body_bytes>, kLive},
    KeySpec{"max_header_bytes", set_size<&Config::max_header_bytes, kKiB, kMiB>,
            show_size<&Config::max_header_bytes>, kLive},
    KeySpec{"max_stanza_bytes", set_size<&Config::max_stanza_bytes, kKiB, 64 * kMiB>,
            show_size<&Config::max_stanza_bytes>, kLive},
    KeySpec{"max_session_queue_bytes",
            set_size<&Config::max_session_queue_bytes, kKiB, 1024 * kMiB>,
            show_size<&Config::max_session_queue_bytes>, kLive},
    KeySpec{"upstream_connect_timeout",
            set_number<&Config::upstream_connect_timeout, 1, 300, Unit::kSeconds>,
            show_number<&Config::upstream_connect_timeout>, kLive},
    KeySpec{"upstream_source_addresses", set_upstream_source_addresses,
            show_upstream_source_addresses, kRestart, Shape::kList},
    KeySpec{"upstream_tls", set_upstream_tls, show_upstream_tls, kRestart},
    KeySpec{"upstream_tls_verify", set_upstream_tls_verify, show_upstream_tls_verify, kRestart},
    KeySpec{"upstream_tls_loopback", set_upstream_tls_loopback, show_upstream_tls_loopback, kRestart},
    KeySpec{"upstream_tls_ca_file", set_upstream_tls_ca_file, show_upstream_tls_ca_file, kRestart},
    KeySpec{"http_idle_timeout", set_number<&Config::http_idle_timeout, 1, 3600, Unit::kSeconds>,
            show_number<&Config::http_idle_timeout>, kLive},
    KeySpec{"http_header_timeout",
            set_number<&Config::http_header_timeout, 1, 300, Unit::kSeconds>,
            show_number<&Config::http_header_timeout>, kLive},
    KeySpec{"max_logins_in_progress",
            set_number<&Config::max_logins_in_progress, 0, 1000000, Unit::kCount>,
            show_number<&Config::max_logins_in_progress>, kLive},
    KeySpec{"max_sessions_per_ip",
            set_number<&Config::max_sessions_per_ip, 0, UINT32_MAX, Unit::kCount>,
            show_number<&Config::max_sessions_per_ip>, kLive},
    KeySpec{"max_sessions", set_number<&Config::max_sessions, 0, UINT32_MAX, Unit::kCount>,
            show_number<&Config::max_sessions>, kLive},
    KeySpec{"log_level", set_log_level_key, show_log_level, kLive},
    KeySpec{"log_file", set_log_file, show_log_file, kLive},
    KeySpec{"metrics_listen", set_metrics_listen, show_metrics_listen, kRestart},
    KeySpec{"proxy_protocol", set_flag<&Config::proxy_protocol>, show_flag<&Config::proxy_protocol>,
            kRestart},
    KeySpec{"trusted_proxies", set_trusted_proxies, show_trusted_proxies, kRestart,
            Shape::kList},
    KeySpec{"upstream_proxy_protocol", set_upstream_proxy_protocol, show_upstream_proxy_protocol,
            kRestart},
};

constexpr std::string_view kDomainUpstreamPrefix = "upstream.";

// "upstream.*" names the default server: in a TOML file, a [upstream] table that
// lists domains cannot sit next to a plain `upstream = "..."`, so the default goes
// into the table under "*".
constexpr std::string_view kDefaultDomain = "*";

Error set_domain_upstream(Config& config, std::string_view key, std::string_view value) {
  const std::string domain = lower(key.substr(kDomainUpstreamPrefix.size()));
  if (domain == kDefaultDomain) return set_upstream(config, key, value);
  if (!is_valid_host_name(domain)) {
    return quoted(key) + ": " + quoted(domain) + " is not a valid domain name";
  }
  if (value.empty()) {  // lets --set remove a domain the file configured
    config.domain_upstreams.erase(domain);
    return std::nullopt;
  }
  std::string reason;
  auto address = parse_host_port(value, &reason);
  if (!address) return address_error(key, value, reason);
  config.domain_upstreams.insert_or_assign(domain, std::move(*address));
  return std::nullopt;
}

}  // namespace

std::optional<std::string> apply_setting(Config& config, std::string_view key,
                                         std::string_view value) {
  for (const KeySpec& spec : kKeys) {
    if (spec.name == key) return spec.apply(config, key, value);
  }
  if (key.starts_with(kDomainUpstreamPrefix)) return set_domain_upstream(config, key, value);
  return "unknown key " + quoted(key);
}

std::vector<std::string_view> config_key_names() {
  std::vector<std::string_view> names;
  for (const KeySpec& spec : kKeys) names.push_back(spec.name);
  return names;
}

std::vector<ConfigEntry> config_entries(const Config& config) {
  std::vector<ConfigEntry> entries;
  entries.reserve(kKeys.size() + config.domain_upstreams.size());
  for (const KeySpec& spec : kKeys) {
    entries.push_back({std::string(spec.name), spec.show(config), spec.shape, spec.reload});
  }
  for (const auto& [domain, address] : config.domain_upstreams) {
    entries.push_back({std::string(kDomainUpstreamPrefix) + domain, address.to_string(),
                       Shape::kScalar, Reload::kLive});
  }
  return entries;
}

Shape key_shape(std::string_view key) {
  for (const KeySpec& spec : kKeys) {
    if (spec.name == key) return spec.shape;
  }
  return Shape::kScalar;
}

Reload key_reload(std::string_view key) {
  for (const KeySpec& spec : kKeys) {
    if (spec.name == key) return spec.reload;
  }
  return key.starts_with(kDomainUpstreamPrefix) ? Reload::kLive : Reload::kRestart;
}

namespace {

// tls_listen needs both files, readable and matching; they are loaded here, so a
// wrong path or a key for another certificate stops the start (and --check-config).
void check_tls_listener(const Config& config, std::vector<std::string>& problems) {
  if (!config.tls_listen) {
    if (!config.tls_cert_file.empty() || !config.tls_key_file.empty()) {
      problems.push_back("'tls_cert_file' and 'tls_key_file' need 'tls_listen'");
    }
    return;
  }
  if (*config.tls_listen == config.listen) {
    problems.push_back("'tls_listen' and 'listen' must differ (both are " +
                       quoted(config.listen.to_string()) + ")");
  }
  bool files_ok = true;
  for (const auto& [key, file] : {std::pair{"tls_cert_file", &config.tls_cert_file},
                                  std::pair{"tls_key_file", &config.tls_key_file}}) {
    if (file->empty()) {
      problems.push_back(quoted(key) + " is required with 'tls_listen'");
      files_ok = false;
      continue;
    }
    struct stat info {};
    if (::stat(file->c_str(), &info) != 0 || ::access(file->c_str(), R_OK) != 0) {
      problems.push_back(quoted(key) + " " + quoted(*file) + ": " + std::strerror(errno));
      files_ok = false;
    } else if (!S_ISREG(info.st_mode)) {
      problems.push_back(quoted(key) + " " + quoted(*file) + " is not a file");
      files_ok = false;
    }
  }
  if (!files_ok) return;
  if (auto error = net::TlsServerContext::check_files(config.tls_cert_file, config.tls_key_file)) {
    problems.push_back("'tls_listen': " + *error);
  }
}

}  // namespace

std::vector<std::string> validate_config(const Config& config) {
  std::vector<std::string> problems;
  if (config.default_wait > config.max_wait) {
    problems.push_back("'default_wait' (" + std::to_string(config.default_wait) +
                       ") must not exceed 'max_wait' (" + std::to_string(config.max_wait) + ")");
  }
  if (config.polling > 0 && config.inactivity <= config.polling) {
    // XEP-0124: a polling client waits `polling` seconds between requests, so
    // an inactivity that short would end every polling session.
    problems.push_back("'inactivity' (" + std::to_string(config.inactivity) +
                       ") must be longer than 'polling' (" + std::to_string(config.polling) + ")");
  }
  if (config.max_session_queue_bytes < config.max_stanza_bytes) {
    problems.push_back("'max_session_queue_bytes' (" + format_size(config.max_session_queue_bytes) +
                       ") must be at least 'max_stanza_bytes' (" +
                       format_size(config.max_stanza_bytes) + "): one whole stanza must fit");
  }
  if (config.websocket_path == config.bosh_path) {
    problems.push_back("'websocket_path' and 'bosh_path' must differ (both are " +
                       quoted(config.bosh_path) + ")");
  }
  if (!config.upstream && config.domain_upstreams.empty() && config.allowed_routes.empty()) {
    problems.push_back(
        "no XMPP server configured: set 'upstream', an 'upstream.<domain>' or 'allowed_routes'");
  }
  if (config.metrics_listen && config.metrics_listen->port != 0 &&
      *config.metrics_listen == config.listen) {
    problems.push_back("'metrics_listen' must not be the 'listen' address (" +
                       config.listen.to_string() + ")");
  }
  if (!config.demo_root.empty()) {
    struct stat info {};
    if (::stat(config.demo_root.c_str(), &info) != 0) {
      problems.push_back("'demo_root' " + quoted(config.demo_root) + ": " + std::strerror(errno));
    } else if (!S_ISDIR(info.st_mode)) {
      problems.push_back("'demo_root' " + quoted(config.demo_root) + " is not a directory");
    }
  }
  if (!config.upstream_tls_ca_file.empty()) {
    // Checked here, not at the first TLS connection, so a typo stops the start.
    struct stat info {};
    const char* file = config.upstream_tls_ca_file.c_str();
    if (::stat(file, &info) != 0 || ::access(file, R_OK) != 0) {
      problems.push_back("'upstream_tls_ca_file' " + quoted(config.upstream_tls_ca_file) + ": " +
                         std::strerror(errno));
    } else if (!S_ISREG(info.st_mode)) {
      problems.push_back("'upstream_tls_ca_file' " + quoted(config.upstream_tls_ca_file) +
                         " is not a file");
    }
  }
  if (!config.log_file.empty()) {
    // Opened (and created) here as it will be at start, so that a directory that
    // does not exist or is not writable stops the start, or refuses a reload.
    const int fd = ::open(config.log_file.c_str(), O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0640);
    if (fd < 0) {
      problems.push_back("'log_file' " + quoted(config.log_file) + ": " + std::strerror(errno));
    } else {
      ::close(fd);
    }
  }
  check_tls_listener(config, problems);
  return problems;
}

}  // namespace sb::app
