// The value-text helpers of the key table; see config_text.hpp.
#include "app/config/config_text.hpp"

#include <cctype>

#include "base/ascii_case.hpp"

namespace sb::app::config_text {

std::string quoted(std::string_view text) { return "'" + std::string(text) + "'"; }

std::optional<std::uint64_t> parse_unsigned(std::string_view text) {
  if (text.empty() || text.size() > 19) return std::nullopt;  // 19 digits always fit
  std::uint64_t value = 0;
  for (char c : text) {
    if (c < '0' || c > '9') return std::nullopt;
    value = value * 10 + static_cast<std::uint64_t>(c - '0');
  }
  return value;
}

std::optional<std::uint64_t> parse_size(std::string_view text) {
  std::uint64_t unit = 1;
  if (!text.empty()) {
    const char last = base::ascii_lower(text.back());
    if (last == 'k') unit = kKiB;
    if (last == 'm') unit = kMiB;
    if (unit != 1) text.remove_suffix(1);
  }
  const auto number = parse_unsigned(text);
  if (!number || *number > UINT64_MAX / unit) return std::nullopt;
  return *number * unit;
}

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

std::string join(const std::vector<std::string>& words) {
  std::string out;
  for (const auto& word : words) {
    if (!out.empty()) out.push_back(' ');
    out.append(word);
  }
  return out;
}

bool in_range(std::uint64_t value, std::uint64_t min, std::uint64_t max) {
  return value >= min && value <= max;
}

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

}  // namespace sb::app::config_text
