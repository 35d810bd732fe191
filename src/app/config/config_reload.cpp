// Reload planning and the configuration's form on the IPC pipe; see
// config_reload.hpp.
#include "app/config/config_reload.hpp"

#include <map>

namespace sb::app {

ReloadPlan plan_reload(const Config& running, const Config& loaded) {
  ReloadPlan plan{loaded, {}, {}};
  std::map<std::string, std::string, std::less<>> before;
  for (ConfigEntry& entry : config_entries(running)) before.emplace(entry.key, std::move(entry.value));
  std::map<std::string, std::string, std::less<>> after;
  for (ConfigEntry& entry : config_entries(loaded)) after.emplace(entry.key, std::move(entry.value));

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

}  // namespace sb::app
