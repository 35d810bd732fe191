// Line splitting, comments and duplicate detection for the config file; see
// config_file.hpp for the format.
#include "app/config_file.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <cctype>
#include <cerrno>
#include <cstring>
#include <map>

namespace sb::app {
namespace {

std::string_view trim(std::string_view text) {
  while (!text.empty() && (text.front() == ' ' || text.front() == '\t')) text.remove_prefix(1);
  while (!text.empty() && (text.back() == ' ' || text.back() == '\t' || text.back() == '\r')) {
    text.remove_suffix(1);
  }
  return text;
}

// A '#' starts a comment at the beginning of a line or after a space or tab, so
// a value such as a URL fragment can still hold a '#' that follows other text.
std::string_view strip_comment(std::string_view line) {
  for (std::size_t i = 0; i < line.size(); ++i) {
    if (line[i] == '#' && (i == 0 || line[i - 1] == ' ' || line[i - 1] == '\t')) {
      return line.substr(0, i);
    }
  }
  return line;
}

std::string lower(std::string_view text) {
  std::string out(text);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

}  // namespace

bool parse_config_text(std::string_view text, std::string_view file_name, Config& config,
                       std::vector<std::string>& errors) {
  const std::size_t errors_before = errors.size();
  std::map<std::string, std::size_t> first_line_of_key;
  std::size_t line_number = 0;
  std::size_t start = 0;
  while (start <= text.size()) {
    std::size_t end = text.find('\n', start);
    if (end == std::string_view::npos) end = text.size();
    const std::string_view raw = text.substr(start, end - start);
    start = end + 1;
    ++line_number;

    const std::string_view line = trim(strip_comment(raw));
    if (line.empty()) continue;
    const std::string where =
        std::string(file_name) + ":" + std::to_string(line_number) + ": ";

    const auto equals = line.find('=');
    if (equals == std::string_view::npos) {
      errors.push_back(where + "expected 'key = value', got '" + std::string(line) + "'");
      continue;
    }
    const std::string_view key = trim(line.substr(0, equals));
    const std::string_view value = trim(line.substr(equals + 1));
    if (key.empty()) {
      errors.push_back(where + "missing key before '='");
      continue;
    }
    // Domains are case-insensitive, so "upstream.Example.org" repeats
    // "upstream.example.org"; all other keys are lower-case anyway.
    const auto [seen, inserted] = first_line_of_key.try_emplace(lower(key), line_number);
    if (!inserted) {
      errors.push_back(where + "'" + std::string(key) + "' is already set on line " +
                       std::to_string(seen->second));
      continue;
    }
    if (auto problem = apply_setting(config, key, value)) errors.push_back(where + *problem);
  }
  return errors.size() == errors_before;
}

FileLoad load_config_file(const std::string& path, Config& config,
                          std::vector<std::string>& errors) {
  // Plain POSIX reads, so that a directory or an unreadable file gives an honest
  // errno rather than an empty stream.
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    errors.push_back(path + ": cannot read: " + std::strerror(errno));
    return FileLoad::kUnreadable;
  }
  std::string contents;
  char chunk[4096];
  for (;;) {
    const ssize_t n = ::read(fd, chunk, sizeof chunk);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      errors.push_back(path + ": cannot read: " + std::strerror(errno));
      ::close(fd);
      return FileLoad::kUnreadable;
    }
    if (n == 0) break;
    contents.append(chunk, static_cast<std::size_t>(n));
  }
  ::close(fd);
  return parse_config_text(contents, path, config, errors) ? FileLoad::kClean : FileLoad::kBadLines;
}

}  // namespace sb::app
