// format_config(): a Config written back as a TOML config file (config_file.hpp
// reads it), for tests and for showing what a daemon runs with. Keys come in table
// order; the [upstream] table, if there are per-domain servers, comes last because
// a TOML table header ends the top-level keys.
#include <algorithm>
#include "app/config/config.hpp"

namespace sb::app {
namespace {

// A TOML basic string: "..." with the escapes TOML requires.
std::string toml_string(const std::string& text) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out = "\"";
  for (char c : text) {
    const auto byte = static_cast<unsigned char>(c);
    if (c == '"' || c == '\\') {
      out.push_back('\\');
      out.push_back(c);
    } else if (c == '\n') {
      out.append("\\n");
    } else if (c == '\t') {
      out.append("\\t");
    } else if (byte < 0x20 || byte == 0x7f) {
      out.append("\\u00");
      out.push_back(kHex[byte >> 4]);
      out.push_back(kHex[byte & 0xf]);
    } else {
      out.push_back(c);
    }
  }
  return out + "\"";
}

// Digits without a leading zero fit a TOML integer and read back as the same text;
// "007" (a node_id, say) must stay a string.
bool is_plain_integer(const std::string& text) {
  if (text.empty() || text.size() > 18) return false;
  if (text.size() > 1 && text.front() == '0') return false;
  for (char c : text) {
    if (c < '0' || c > '9') return false;
  }
  return true;
}

std::string toml_value(const ConfigEntry& entry) {
  if (entry.shape == Shape::kList) {
    std::string out = "[";
    std::size_t i = 0;
    while (i < entry.value.size()) {
      const std::size_t end = std::min(entry.value.find(' ', i), entry.value.size());
      if (end > i) {
        if (out.size() > 1) out += ", ";
        out += toml_string(entry.value.substr(i, end - i));
      }
      i = end + 1;
    }
    return out + "]";
  }
  if (is_plain_integer(entry.value) || entry.value == "true" || entry.value == "false") {
    return entry.value;
  }
  return toml_string(entry.value);
}

}  // namespace

std::string format_entry(const ConfigEntry& entry) {
  // A key TOML would read as dotted ("upstream.example.org") is written as such:
  // each part quoted if it must be.
  std::string key;
  std::size_t start = 0;
  while (start <= entry.key.size()) {
    std::size_t dot = entry.key.find('.', start);
    if (dot == std::string::npos || !entry.key.starts_with("upstream.")) dot = entry.key.size();
    const std::string part = entry.key.substr(start, dot - start);
    const bool bare =
        !part.empty() && part.find_first_not_of(
                             "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-") ==
                             std::string::npos;
    if (!key.empty()) key += ".";
    key += bare ? part : toml_string(part);
    start = dot + 1;
    if (dot == entry.key.size()) break;
  }
  return key + " = " + toml_value(entry);
}

std::string format_config(const Config& config) {
  constexpr std::string_view kDomainPrefix = "upstream.";
  const std::vector<ConfigEntry> entries = config_entries(config);
  const bool table = !config.domain_upstreams.empty();
  std::string out;
  std::string upstream_table;
  for (const ConfigEntry& entry : entries) {
    if (entry.key == "upstream" && table) {
      if (!entry.value.empty()) upstream_table += "\"*\" = " + toml_string(entry.value) + "\n";
    } else if (entry.key.starts_with(kDomainPrefix)) {
      upstream_table += toml_string(entry.key.substr(kDomainPrefix.size())) + " = " +
                        toml_string(entry.value) + "\n";
    } else {
      out += format_entry(entry) + "\n";
    }
  }
  if (table) out += "\n[upstream]\n" + upstream_table;
  return out;
}

}  // namespace sb::app
