// Reloading the configuration (SIGHUP) while sessions go on.
//
// The file is read again and the command-line values laid over it once more
// (cli.hpp, load_config), with every check a start makes. A configuration with
// any problem is refused whole: the daemon logs every problem and keeps running
// the one it had. A good one is compared with the running one key by key
// (config_entries()). Keys the daemon can change live (Reload::kLive in the key
// table: limits, origins, the upstream map, allowed_routes, the log level and log
// file) take their new values; the others (listen, workers, bosh_path, node_id,
// demo_root, the upstream TLS keys, ...) keep their running value, and the reload
// names them as needing a restart. The result, plan.next, is what every process
// runs from then on, and what a worker restarted later starts with, so processes
// never disagree on a restart-only key such as the worker count.
//
// Between the supervisor and its workers the configuration travels as its
// entries, "key=value" separated by NUL bytes (values are C strings: a NUL cannot
// be in one), and is decoded with the same apply_setting() and validate_config()
// as any other source.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "app/config/cli.hpp"
#include "app/config/config.hpp"

namespace sb::app {

struct ReloadPlan {
  Config next;                       // what to run from now on
  std::vector<std::string> changed;  // keys whose new value is applied
  std::vector<std::string> restart;  // keys that changed but keep their running value
};

// `loaded` must have passed validate_config(). The worker count is compared as
// resolved: pass `loaded` with `workers` resolved the way the start did.
ReloadPlan plan_reload(const Config& running, const Config& loaded);

// One log line's worth: "max_wait, cors_origins" ("" for none).
std::string join_keys(const std::vector<std::string>& keys);

// The steps of a SIGHUP that a worker running alone and the supervisor take
// alike (each then hands the plan on in its own way):
//
// 1. The file `path` ("" for none) read again with `overrides` laid over it, as
//    the start did; the reload and, when refused, every problem logged. nullopt
//    when refused: the running configuration stays.
std::optional<Config> load_for_reload(const std::string& path,
                                      const std::vector<Override>& overrides);
// 2. plan_reload(), with a warning naming the restart-only keys that changed.
ReloadPlan plan_reload_logged(const Config& running, const Config& loaded);
// 3. This process's log level and log file as `next` says (a file that cannot be
//    opened is logged, and logging goes on to the old one).
void apply_log_settings(const Config& next);

std::string encode_config(const Config& config);
// nullopt, with every problem in `errors`, if `bytes` do not make a valid Config.
std::optional<Config> decode_config(std::string_view bytes, std::vector<std::string>& errors);

}  // namespace sb::app
