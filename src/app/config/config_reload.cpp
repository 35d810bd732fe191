// Reload planning and the configuration's form on the IPC pipe; see
// config_reload.hpp.
#include "app/config/config_reload.hpp"

#include <map>

#include "app/log/log.hpp"

namespace sb::app {

ReloadPlan plan_reload(const Config& running, const Config& loaded) {
  ReloadPlan plan{loaded, {}, {}};
  std::map<std::string, std::string, std::less<>> before;
  for (ConfigEntry& entry : config_entries(running))
    before.emplace(entry.key, std::move(entry.value));
  std::map<std::string, std::string, std::less<>> after;
  for (ConfigEntry& entry : config_entries(loaded))
    after.emplace(entry.key, std::move(entry.value));

  // Keys present on one side only are per-domain upstreams (live): a domain added
  // or removed. Everything else is in both.
  std::map<std::string, std::string, std::less<>> all = before;
  for (const auto& [key, value] : after) all.try_emplace(key, value);
  for (const auto& [key, unused] : all) {
    const auto old_value = before.find(key);
    const auto new_value = after.find(key);
    const bool same = old_value != before.end() && new_value != after.end() &&
                      old_value->second == new_value->second;
    if (same) continue;
    if (key_reload(key) == Reload::kLive) {
      plan.changed.push_back(key);
      continue;
    }
    plan.restart.push_back(key);
    // Keep the running value: the key exists on both sides (only domains can be
    // missing on one, and they are live).
    if (old_value != before.end()) (void)apply_setting(plan.next, key, old_value->second);
  }
  return plan;
}

std::string join_keys(const std::vector<std::string>& keys) {
  std::string out;
  for (const std::string& key : keys) {
    if (!out.empty()) out += ", ";
    out += key;
  }
  return out;
}

std::string encode_config(const Config& config) {
  std::string out;
  for (const ConfigEntry& entry : config_entries(config)) {
    out += entry.key;
    out += '=';
    out += entry.value;
    out += '\0';
  }
  return out;
}

std::optional<Config> decode_config(std::string_view bytes, std::vector<std::string>& errors) {
  Config config;
  const std::size_t errors_before = errors.size();
  std::size_t start = 0;
  while (start < bytes.size()) {
    std::size_t end = bytes.find('\0', start);
    if (end == std::string_view::npos) end = bytes.size();
    const std::string_view entry = bytes.substr(start, end - start);
    start = end + 1;
    const std::size_t equals = entry.find('=');
    if (equals == std::string_view::npos) {
      errors.push_back("configuration entry without '=': '" + std::string(entry) + "'");
      continue;
    }
    if (auto problem = apply_setting(config, entry.substr(0, equals), entry.substr(equals + 1))) {
      errors.push_back(*problem);
    }
  }
  for (std::string& problem : validate_config(config)) errors.push_back(std::move(problem));
  if (errors.size() != errors_before) return std::nullopt;
  return config;
}

std::optional<Config> load_for_reload(const std::string& path,
                                      const std::vector<Override>& overrides) {
  SB_LOG_INFO("SIGHUP: reloading %s",
              path.empty() ? "the command-line configuration" : path.c_str());
  std::vector<std::string> errors;
  Config loaded = load_config(path, overrides, errors);
  if (errors.empty()) return loaded;
  for (const std::string& problem : errors) SB_LOG_ERROR("reload refused: %s", problem.c_str());
  SB_LOG_ERROR("reload refused (%zu problem%s): the running configuration stays", errors.size(),
               errors.size() == 1 ? "" : "s");
  return std::nullopt;
}

ReloadPlan plan_reload_logged(const Config& running, const Config& loaded) {
  ReloadPlan plan = plan_reload(running, loaded);
  if (!plan.restart.empty()) {
    SB_LOG_WARN("reload: %s changed, which takes a restart: the running value stays",
                join_keys(plan.restart).c_str());
  }
  return plan;
}

void apply_log_settings(const Config& next) {
  set_log_level(next.log_level);
  if (next.log_file != log_file_path()) {
    const std::string error = set_log_file(next.log_file);
    if (!error.empty()) {
      SB_LOG_ERROR("cannot open the new log file %s; logging goes on as before", error.c_str());
    }
  }
}

}  // namespace sb::app
