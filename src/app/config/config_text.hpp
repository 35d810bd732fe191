// The value-text helpers of the key table (config.cpp) and its checks
// (config_check.cpp): how a configuration value spells numbers, sizes, word
// lists, origins and URLs, read and written back. Internal to app/config/.
#pragma once

#include <cstdint>
#include <initializer_list>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace sb::app::config_text {

inline constexpr std::uint64_t kKiB = 1024;
inline constexpr std::uint64_t kMiB = 1024 * 1024;

// `text` in single quotes, as error messages name keys and values.
std::string quoted(std::string_view text);
// Digits only: no sign, no spaces, no hex. Rejects values that overflow 64 bits.
std::optional<std::uint64_t> parse_unsigned(std::string_view text);
// An integer with an optional k (KiB) or m (MiB) suffix, either case.
std::optional<std::uint64_t> parse_size(std::string_view text);
// The shortest exact spelling: "64k", "1m", "1000".
std::string format_size(std::uint64_t bytes);
// The words of a list value, split on spaces and tabs.
std::vector<std::string_view> split_words(std::string_view text);
// `words` joined with one space, as a list value is written back.
std::string join(const std::vector<std::string>& words);
// min <= value <= max. A function rather than an inline comparison so a minimum of
// 0 in a template instance does not trip "comparison is always false" warnings.
bool in_range(std::uint64_t value, std::uint64_t min, std::uint64_t max);
// An Origin header value: scheme://host[:port] and nothing else (http or https).
bool valid_origin(std::string_view origin);
// An absolute URL without spaces, of one of `schemes` ("http", "https"...).
bool valid_url(std::string_view url, std::initializer_list<std::string_view> schemes);

}  // namespace sb::app::config_text
