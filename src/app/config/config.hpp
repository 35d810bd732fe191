// Config: every setting of the switchboard daemon, with its default, and the one
// table that knows each key's name, type and allowed range.
//
// A setting reaches Config three ways: a key of the TOML config file
// (config_file.hpp), a command-line option or --set (cli.hpp). All three go
// through apply_setting() with the value's text (a TOML value is read as the text
// --set would give), so a key is spelled, checked and reported the same way
// wherever it comes from. Rules that tie two keys together (default_wait may not
// exceed max_wait, ...) can only be judged once every source has been applied:
// validate_config() does that last.
//
// docs/configuration.md describes every key for operators; keep the two in step
// (a unit test checks that every key here is mentioned there).
#pragma once

#include <cstddef>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "app/log/log.hpp"
#include "base/host_port.hpp"
#include "xmpp/tls_mode.hpp"

namespace sb::app {

struct Config {
  // --- where to listen and whom to serve -------------------------------------
  base::HostPort listen{"127.0.0.1", 5280};  // IP address and port the HTTP listener binds
  std::string bosh_path = "/http-bind";      // URL path of the BOSH endpoint
  std::string websocket_path =
      "/xmpp-websocket";        // URL path of XMPP over WebSocket (RFC 7395); empty = off
  std::string public_bosh_url;  // BOSH URL host-meta advertises; empty = from the request's Host
  std::string
      public_websocket_url;  // WebSocket URL host-meta advertises; empty = from the request's Host
  // HTTPS: the same endpoints over TLS on a second address (empty = none), with
  // the PEM certificate chain and private key it presents.
  std::optional<base::HostPort> tls_listen;
  std::string tls_cert_file;
  std::string tls_key_file;
  // Session tickets: a new ticket key every this many seconds, shared by all
  // workers (net/ticket_keys.hpp); 0 = OpenSSL's own keys, per process.
  std::uint32_t tls_ticket_rotation = 3600;
  std::uint32_t workers = 1;  // worker processes; 0 = auto (cores, fds, max_sessions)
  std::uint32_t worker_hang_timeout =
      30;  // seconds without a worker's heartbeat before it is killed; 0 = off
  // With several workers: a keeper process per worker holds its sessions' records
  // and server sockets, so a worker that dies loses no session (app/keeper/).
  bool keep_sessions = true;
  // Where the keepers write their journals (app/keeper/journal.hpp); empty = none.
  std::string state_dir;
  std::optional<base::HostPort> upstream;  // default XMPP server; empty = none configured
  // XMPP server per domain (the `to` of a session), lower-case domain -> host:port.
  std::map<std::string, base::HostPort, std::less<>> domain_upstreams;
  std::vector<base::HostPort>
      allowed_routes;  // BOSH `route` targets a client may ask for; empty = route ignored
  // Origins that get CORS headers: "*" = any (the default, as with the servers' own
  // BOSH; see http/cors.hpp for why that is safe); empty = none (same-origin only).
  std::vector<std::string> cors_origins{"*"};
  std::string demo_root;  // directory of static files served at /; empty = none
  std::string
      node_id;  // sid prefix naming this node for an L7 router (<= 8 letters/digits); empty = none

  // --- BOSH session parameters (seconds, except max_hold) --------------------
  std::uint32_t max_wait = 120;     // a client's `wait` is capped to this
  std::uint32_t default_wait = 60;  // `wait` for a client that sends none
  std::uint32_t max_hold = 1;       // a client's `hold` is capped to this; requests = hold + 1
  std::uint32_t inactivity = 60;    // session ends after this long with no request held
  std::uint32_t polling = 2;        // shortest interval between empty polls; 0 = no limit
  std::uint32_t maxpause = 120;     // longest pause a client may ask for; 0 = no pause support

  // --- WebSocket (seconds) ------------------------------------------------------
  std::uint32_t websocket_ping_interval =
      60;  // a ping after this long without a byte from the client
  std::uint32_t websocket_pong_timeout = 30;  // then close if nothing comes back within this

  // --- limits -----------------------------------------------------------------
  std::size_t max_body_bytes = 64 * 1024;     // largest HTTP request body
  std::size_t max_header_bytes = 8 * 1024;    // largest HTTP request head (request line + headers)
  std::size_t max_stanza_bytes = 256 * 1024;  // largest stanza accepted from the XMPP server
  std::size_t max_session_queue_bytes =
      1024 * 1024;  // bytes queued for one session before policy-violation
  std::uint32_t upstream_connect_timeout = 10;  // seconds to connect and open the XMPP stream
  std::string
      upstream_source_addresses;  // local addresses/ranges to connect from; empty = the kernel picks
  std::uint32_t http_idle_timeout = 120;  // seconds a keep-alive connection may sit with no request
  std::uint32_t http_header_timeout = 10;  // seconds to receive a complete request head
  std::uint32_t max_logins_in_progress =
      256;  // per worker, overload control (login_pacer.hpp); 0 = off
  std::uint32_t max_sessions_per_ip =
      0;                           // sessions one client address may hold per worker; 0 = unlimited
  std::uint32_t max_sessions = 0;  // sessions of the daemon (each worker its share); 0 = unlimited

  // --- TLS towards the XMPP server ---------------------------------------------
  xmpp::TlsMode upstream_tls = xmpp::TlsMode::kAuto;  // auto | required | off | direct
  bool upstream_tls_verify = true;                    // verify the server's certificate and name
  bool upstream_tls_loopback = false;  // auto: use an optional STARTTLS offer on loopback too
  std::string upstream_tls_ca_file;    // PEM CAs to trust; empty = the system store

  // --- the real client address behind front proxies ------------------------------
  bool proxy_protocol = false;  // every accepted connection starts with a PROXY v1/v2 header
  std::string
      trusted_proxies;  // addresses/CIDR blocks whose X-Forwarded-For / Forwarded is believed
  std::uint8_t upstream_proxy_protocol =
      0;  // PROXY header towards the XMPP server: 0 none, 1 v1, 2 v2

  // --- operations ---------------------------------------------------------------
  LogLevel log_level = LogLevel::kInfo;          // error | warn | info | debug
  std::optional<base::HostPort> metrics_listen;  // Prometheus /metrics listener; empty = off
  // HAProxy agent-check listener (agent_server.hpp): one line, the free capacity
  // as a weight; empty = off.
  std::optional<base::HostPort> agent_listen;
  // The operator's drain: the agent says weight 0, so the balancer sends no new
  // sessions while this node's sessions go on (live on reload).
  bool drain = false;
  std::string log_file;  // file the log is appended to; empty = stderr
  std::string
      pid_file;  // where the main process writes its pid (switchboard upgrade); empty = none

  bool operator==(const Config&) const = default;
};

// Sets `key` from its text form `value` (already trimmed; lists space-separated).
// `key` is any name of config_key_names() or "upstream.<domain>". Returns nullopt
// on success, else a message without location, e.g.
// "'max_wait' must be a whole number of seconds from 1 to 3600, got 'abc'"; the
// caller prefixes "FILE:LINE: " or "--set: ". On error `config` is unchanged.
[[nodiscard]] std::optional<std::string> apply_setting(Config& config, std::string_view key,
                                                       std::string_view value);

// The fixed keys, in documentation order (per-domain "upstream.<domain>" keys
// are not listed).
std::vector<std::string_view> config_key_names();

// Whether a running daemon can take a key's new value on SIGHUP (kLive), or only a
// restart can (kRestart: listen addresses, the worker count, ...). See
// config_reload.hpp.
enum class Reload : std::uint8_t { kRestart, kLive };
// A list key's text is space-separated items; the TOML file writes it as an array.
enum class Shape : std::uint8_t { kScalar, kList };

// One key of a configuration with its value's text, as apply_setting() takes it.
struct ConfigEntry {
  std::string key;
  std::string value;
  Shape shape = Shape::kScalar;
  Reload reload = Reload::kRestart;
};

// Every key of `config`: the fixed ones in table order, then one
// "upstream.<domain>" per domain. Applying them all to a default Config gives back
// an equal Config (this is how workers receive theirs, worker_launch.hpp).
std::vector<ConfigEntry> config_entries(const Config& config);

// What a key may do on reload; "upstream.<domain>" keys are live; unknown keys
// are kRestart.
Reload key_reload(std::string_view key);

// The shape of a key (kScalar for "upstream.<domain>" and unknown keys).
Shape key_shape(std::string_view key);

// One `key = value` line of a TOML config file for `entry` (no newline).
std::string format_entry(const ConfigEntry& entry);

// The whole configuration as a TOML config file (config_toml.cpp); parsing the
// result gives back an equal Config. Handy for tests and for debugging what a
// daemon actually runs with.
std::string format_config(const Config& config);

// The rules that involve more than one key or the file system. Returns one
// message per problem; empty means the configuration can run.
std::vector<std::string> validate_config(const Config& config);

}  // namespace sb::app
