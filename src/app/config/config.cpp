// The key table: for every config key, how its text is checked and stored, and
// how the stored value is written back. See config.hpp for the big picture.
//
// Numeric keys are instances of two small templates parameterised by the Config
// member and the allowed range, so adding a key is one table line and its error
// message ("'max_wait' must be a whole number of seconds from 1 to 3600, got
// 'abc'") states the range automatically.
#include "app/config/config.hpp"

#include <array>
#include <cctype>

#include "app/config/config_text.hpp"
#include "base/ascii_case.hpp"
#include "net/address_blocks.hpp"
#include "net/source_pool.hpp"

namespace sb::app {
namespace {

using base::lowercase;
using config_text::format_size;
using config_text::in_range;
using config_text::join;
using config_text::kKiB;
using config_text::kMiB;
using config_text::parse_size;
using config_text::parse_unsigned;
using config_text::quoted;
using config_text::split_words;
using config_text::valid_origin;
using config_text::valid_url;

constexpr std::size_t kMaxNodeIdChars = 8;

using Error = std::optional<std::string>;

// ---- numbers ---------------------------------------------------------------

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
  auto address = base::parse_host_port(value, &reason);
  if (!address) return address_error(key, value, reason);
  if (!base::is_ip_literal(address->host)) {
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
  auto address = base::parse_host_port(value, &reason);
  if (!address) return address_error(key, value, reason);
  config.upstream = std::move(*address);
  return std::nullopt;
}
std::string show_upstream(const Config& config) {
  return config.upstream ? config.upstream->to_string() : std::string();
}

Error set_allowed_routes(Config& config, std::string_view key, std::string_view value) {
  std::vector<base::HostPort> routes;
  for (std::string_view word : split_words(value)) {
    std::string reason;
    auto address = base::parse_host_port(word, &reason);
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

// Browsers send an Origin lower-case, so the list is stored lower-case for a plain
// compare (valid_origin() checks the form).
Error set_cors_origins(Config& config, std::string_view key, std::string_view value) {
  std::vector<std::string> origins;
  for (std::string_view word : split_words(value)) {
    if (word != "*" && !valid_origin(word)) {
      return quoted(key) + " entries must be * or scheme://host[:port] like " +
             "https://chat.example.com, got " + quoted(word);
    }
    origins.push_back(lowercase(word));
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
    return quoted(key) +
           " must be empty (off) or a URL path starting with '/' (no spaces, '?' "
           "or '#'), got " +
           quoted(value);
  }
  config.websocket_path = std::string(value);
  return std::nullopt;
}
std::string show_websocket_path(const Config& config) { return config.websocket_path; }

template <std::string Config::*kMember>
Error set_public_url(Config& config, std::string_view key, std::string_view value) {
  const bool websocket = kMember == &Config::public_websocket_url;
  if (!value.empty() &&
      !(websocket ? valid_url(value, {"ws", "wss"}) : valid_url(value, {"http", "https"}))) {
    return quoted(key) + " must be empty (from the request's Host) or a full " +
           (websocket ? "ws:// or wss://" : "http:// or https://") + " URL, got " + quoted(value);
  }
  config.*kMember = std::string(value);
  return std::nullopt;
}
template <std::string Config::*kMember>
std::string show_public_url(const Config& config) {
  return config.*kMember;
}

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

Error set_pid_file(Config& config, std::string_view, std::string_view value) {
  config.pid_file = std::string(value);
  return std::nullopt;
}
std::string show_pid_file(const Config& config) { return config.pid_file; }

Error set_state_dir(Config& config, std::string_view, std::string_view value) {
  config.state_dir = std::string(value);
  return std::nullopt;
}
std::string show_state_dir(const Config& config) { return config.state_dir; }

// ---- TLS towards the XMPP server -----------------------------------------------

Error set_upstream_tls(Config& config, std::string_view key, std::string_view value) {
  const auto mode = xmpp::tls_mode_from_name(value);
  if (!mode)
    return quoted(key) + " must be one of auto, required, off, direct, got " + quoted(value);
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

// An IP literal and port, or empty for none: the side listeners (metrics, agent).
template <std::optional<base::HostPort> Config::*field>
Error set_side_listen(Config& config, std::string_view key, std::string_view value) {
  if (value.empty()) {
    (config.*field).reset();
    return std::nullopt;
  }
  std::string reason;
  auto address = base::parse_host_port(value, &reason);
  if (!address) return address_error(key, value, reason);
  if (!base::is_ip_literal(address->host)) {
    return quoted(key) + " must be an IP address and port, like 127.0.0.1:9280 " +
           "(no host names), got " + quoted(value);
  }
  config.*field = std::move(*address);
  return std::nullopt;
}
template <std::optional<base::HostPort> Config::*field>
std::string show_side_listen(const Config& config) {
  return (config.*field) ? (config.*field)->to_string() : std::string();
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
    KeySpec{"keep_sessions", set_flag<&Config::keep_sessions>, show_flag<&Config::keep_sessions>,
            kRestart},
    KeySpec{"state_dir", set_state_dir, show_state_dir, kRestart},
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
    KeySpec{"upstream_tls_loopback", set_upstream_tls_loopback, show_upstream_tls_loopback,
            kRestart},
    KeySpec{"upstream_tls_ca_file", set_upstream_tls_ca_file, show_upstream_tls_ca_file, kRestart},
    KeySpec{"http_idle_timeout", set_number<&Config::http_idle_timeout, 1, 3600, Unit::kSeconds>,
            show_number<&Config::http_idle_timeout>, kLive},
    KeySpec{"http_header_timeout", set_number<&Config::http_header_timeout, 1, 300, Unit::kSeconds>,
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
    KeySpec{"pid_file", set_pid_file, show_pid_file, kRestart},
    KeySpec{"metrics_listen", set_side_listen<&Config::metrics_listen>,
            show_side_listen<&Config::metrics_listen>, kRestart},
    KeySpec{"agent_listen", set_side_listen<&Config::agent_listen>,
            show_side_listen<&Config::agent_listen>, kRestart},
    KeySpec{"drain", set_flag<&Config::drain>, show_flag<&Config::drain>, kLive},
    KeySpec{"proxy_protocol", set_flag<&Config::proxy_protocol>, show_flag<&Config::proxy_protocol>,
            kRestart},
    KeySpec{"trusted_proxies", set_trusted_proxies, show_trusted_proxies, kRestart, Shape::kList},
    KeySpec{"upstream_proxy_protocol", set_upstream_proxy_protocol, show_upstream_proxy_protocol,
            kRestart},
};

constexpr std::string_view kDomainUpstreamPrefix = "upstream.";

// "upstream.*" names the default server: in a TOML file, a [upstream] table that
// lists domains cannot sit next to a plain `upstream = "..."`, so the default goes
// into the table under "*".
constexpr std::string_view kDefaultDomain = "*";

Error set_domain_upstream(Config& config, std::string_view key, std::string_view value) {
  const std::string domain = lowercase(key.substr(kDomainUpstreamPrefix.size()));
  if (domain == kDefaultDomain) return set_upstream(config, key, value);
  if (!base::is_valid_host_name(domain)) {
    return quoted(key) + ": " + quoted(domain) + " is not a valid domain name";
  }
  if (value.empty()) {  // lets --set remove a domain the file configured
    config.domain_upstreams.erase(domain);
    return std::nullopt;
  }
  std::string reason;
  auto address = base::parse_host_port(value, &reason);
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

}  // namespace sb::app
