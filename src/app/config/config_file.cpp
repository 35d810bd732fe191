// The TOML config file: toml++ parses, this file walks the document, turns each
// value into the text apply_setting() takes and collects every problem with its
// line. See config_file.hpp for the format.
#include "app/config/config_file.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <map>
#include <optional>
#include <sstream>

#include <toml++/toml.h>

#include "base/ascii_case.hpp"

namespace sb::app {
namespace {

struct Problem {
  std::size_t line = 0;
  std::size_t column = 0;  // 0: not shown
  std::string message;
};

std::string quoted(std::string_view text) { return "'" + std::string(text) + "'"; }

bool is_known_key(std::string_view name) {
  const auto names = config_key_names();
  return std::find(names.begin(), names.end(), name) != names.end();
}

// A scalar as the text --set would give; nullopt for an array or a table. Floats,
// dates and times are passed on as TOML writes them, so that the key's own check
// names what it wanted ("a whole number of seconds ..., got '1.5'").
std::optional<std::string> scalar_text(const toml::node& node) {
  if (const auto* text = node.as_string()) return text->get();
  if (const auto* number = node.as_integer()) return std::to_string(number->get());
  if (const auto* flag = node.as_boolean()) return std::string(flag->get() ? "true" : "false");
  std::ostringstream out;
  if (const auto* real = node.as_floating_point()) {
    out << *real;
  } else if (const auto* date = node.as_date()) {
    out << *date;
  } else if (const auto* time = node.as_time()) {
    out << *time;
  } else if (const auto* date_time = node.as_date_time()) {
    out << *date_time;
  } else {
    return std::nullopt;
  }
  return out.str();
}

// The value of `key` as text: a scalar, or an array of scalars joined by spaces
// (what a list key takes). An item cannot hold a space: it would become two.
std::optional<std::string> value_text(std::string_view key, const toml::node& node,
                                      std::string& error) {
  if (auto text = scalar_text(node)) return text;
  const auto* array = node.as_array();
  if (array == nullptr) {
    error = quoted(key) + " must be a value, not a table";
    return std::nullopt;
  }
  std::string joined;
  for (const toml::node& item : *array) {
    const auto text = scalar_text(item);
    if (!text) {
      error = quoted(key) + " must be a list of strings, not of arrays or tables";
      return std::nullopt;
    }
    if (text->empty() || text->find_first_of(" \t") != std::string::npos) {
      error =
          quoted(key) + " list items must be non-empty and without spaces, got " + quoted(*text);
      return std::nullopt;
    }
    if (!joined.empty()) joined.push_back(' ');
    joined.append(*text);
  }
  return joined;
}

std::size_t line_of(const toml::node& node) { return node.source().begin.line; }

class Walker {
 public:
  Walker(Config& config, std::vector<Problem>& problems) : config_(config), problems_(problems) {}

  void top_level(const toml::table& doc) {
    for (auto&& [key, node] : doc) {
      const std::string name(key.str());
      if (name == "upstream" && node.is_table()) {
        upstream_table(*node.as_table(), "");
        continue;
      }
      if (node.is_table()) {
        problem(node, is_known_key(name)
                          ? quoted(name) + " must be a value, not a table"
                          : "unknown table " + quoted(name) +
                                ": every key except the [upstream] table goes at the top level");
        continue;
      }
      apply(name, node, {});
    }
  }

 private:
  // The [upstream] table, flattened: upstream.example.org = "..." as dotted keys
  // is a table example -> org in TOML, which is the domain "example.org" here.
  void upstream_table(const toml::table& table, const std::string& prefix) {
    std::vector<std::pair<std::string, const toml::node*>> domains;
    collect_domains(table, prefix, domains);
    // In file order, so that a repeat is the later line (a toml::table is sorted by key).
    std::stable_sort(domains.begin(), domains.end(), [](const auto& a, const auto& b) {
      return line_of(*a.second) < line_of(*b.second);
    });
    for (const auto& [path, node_pointer] : domains) {
      const toml::node& node = *node_pointer;
      // Domains are case-insensitive: "Example.org" repeats "example.org".
      const auto [seen, inserted] = domain_lines_.try_emplace(base::lowercase(path), line_of(node));
      if (!inserted) {
        problem(node, quoted("upstream." + path) + " is already set on line " +
                          std::to_string(seen->second));
        continue;
      }
      // A config key inside the table is almost always a key written below the
      // [upstream] header, which TOML puts into that table.
      std::string hint;
      if (is_known_key(path)) {
        hint =
            " (keys below an [upstream] header belong to that table: move [upstream] to the "
            "end of the file)";
      }
      apply("upstream." + path, node, hint);
    }
  }

  static void collect_domains(const toml::table& table, const std::string& prefix,
                              std::vector<std::pair<std::string, const toml::node*>>& out) {
    for (auto&& [key, node] : table) {
      std::string path =
          prefix.empty() ? std::string(key.str()) : prefix + "." + std::string(key.str());
      if (const auto* nested = node.as_table()) {
        collect_domains(*nested, path, out);
      } else {
        out.emplace_back(std::move(path), &node);
      }
    }
  }

  void apply(const std::string& key, const toml::node& node, const std::string& hint) {
    std::string error;
    const auto text = value_text(key, node, error);
    if (!text) {
      problem(node, error);
      return;
    }
    if (auto bad = apply_setting(config_, key, *text)) problem(node, *bad + hint);
  }

  void problem(const toml::node& node, std::string message) {
    problems_.push_back({line_of(node), 0, std::move(message)});
  }

  Config& config_;
  std::vector<Problem>& problems_;
  std::map<std::string, std::size_t> domain_lines_;
};

// Lines are counted from 1, as toml++ does.
std::optional<std::pair<std::size_t, std::size_t>> line_span(std::string_view text,
                                                             std::size_t line) {
  std::size_t start = 0;
  for (std::size_t n = 1; n < line; ++n) {
    const std::size_t end = text.find('\n', start);
    if (end == std::string_view::npos) return std::nullopt;
    start = end + 1;
  }
  std::size_t end = text.find('\n', start);
  if (end == std::string_view::npos) end = text.size();
  return std::pair{start, end};
}

// Replaces line `line` by spaces (keeping every other line where it was). False if
// there is no such line or it is blank already: parsing again would not get further.
bool blank_line(std::string& text, std::size_t line) {
  const auto span = line_span(text, line);
  if (!span) return false;
  bool changed = false;
  for (std::size_t i = span->first; i < span->second; ++i) {
    if (text[i] != ' ' && text[i] != '\r') {
      text[i] = ' ';
      changed = true;
    }
  }
  return changed;
}

std::string_view trim(std::string_view text) {
  while (!text.empty() && (text.front() == ' ' || text.front() == '\t')) text.remove_prefix(1);
  while (!text.empty() && (text.back() == ' ' || text.back() == '\t' || text.back() == '\r')) {
    text.remove_suffix(1);
  }
  return text;
}

// If `line` reads like the format before TOML, `key = bare text` (a value that
// is not quoted and not a list), the same setting as a TOML line, to show the
// operator what to write. The old format's comments began with '#' after a space.
// `domains`: the old file also has upstream.<domain> lines, so the default server
// must become upstream."*" (TOML cannot have both a string and a table upstream).
std::optional<std::string> old_format_fix(std::string_view line, bool domains) {
  const std::size_t equals = line.find('=');
  if (equals == std::string_view::npos) return std::nullopt;
  const std::string_view key = trim(line.substr(0, equals));
  std::string_view value = line.substr(equals + 1);
  for (std::size_t i = 0; i < value.size(); ++i) {
    if (value[i] == '#' && (i == 0 || value[i - 1] == ' ' || value[i - 1] == '\t')) {
      value = value.substr(0, i);
      break;
    }
  }
  value = trim(value);
  if (key.empty() || key.find_first_of(" \t\"'[") != std::string_view::npos) return std::nullopt;
  if (!value.empty() && std::string_view("\"'[{").find(value.front()) != std::string_view::npos) {
    return std::nullopt;
  }
  const std::string name = key == "upstream" && domains ? "upstream.*" : std::string(key);
  return format_entry({name, std::string(value), key_shape(name), Reload::kRestart});
}

}  // namespace

bool parse_config_text(std::string_view text, std::string_view file_name, Config& config,
                       std::vector<std::string>& errors, bool* syntax_error) {
  std::vector<Problem> problems;
  std::string work(text);
  std::optional<toml::table> doc;
  bool hinted = false;
  // An old-format file with per-domain lines (they are not TOML: unquoted values).
  bool old_domains = false;
  for (std::size_t line = 1;; ++line) {
    const auto span = line_span(text, line);
    if (!span) break;
    const std::string_view content = trim(text.substr(span->first, span->second - span->first));
    if (content.starts_with("upstream.") && old_format_fix(content, false)) old_domains = true;
  }
  for (std::size_t attempt = 0; attempt < kMaxSyntaxErrors && !doc; ++attempt) {
    try {
      doc = toml::parse(std::string_view(work), std::string_view(file_name));
    } catch (const toml::parse_error& error) {
      const std::size_t line = error.source().begin.line;
      std::string message(error.description());
      const auto span = line_span(text, line);
      const std::string_view bad_line =
          span ? trim(text.substr(span->first, span->second - span->first)) : std::string_view();
      if ((bad_line.starts_with("upstream.") || bad_line.starts_with("[upstream]") ||
           bad_line.starts_with("upstream =")) &&
          message.find("redefine") != std::string::npos) {
        message +=
            " (with per-domain servers, `upstream` is a table: write the default server as "
            "upstream.\"*\" = \"host:port\")";
      }
      if (const auto fix = span ? old_format_fix(bad_line, old_domains) : std::nullopt) {
        message = "not TOML; write: " + *fix;
        if (!hinted) {
          message +=
              " (the config file is TOML since switchboard 0.2: strings are quoted, lists "
              "are arrays; see docs/operations.md, \"Upgrading\")";
          hinted = true;
        }
      }
      problems.push_back({line, error.source().begin.column, std::move(message)});
      if (!blank_line(work, line)) break;
    }
  }
  if (syntax_error != nullptr) *syntax_error = !problems.empty();
  if (doc) {
    Walker(config, problems).top_level(*doc);
  } else {
    problems.push_back({problems.empty() ? 1 : problems.back().line, 0,
                        "the keys were not checked: fix the syntax errors first"});
  }

  std::stable_sort(problems.begin(), problems.end(), [](const Problem& a, const Problem& b) {
    return a.line != b.line ? a.line < b.line : a.column < b.column;
  });
  for (const Problem& p : problems) {
    std::string where = std::string(file_name) + ":" + std::to_string(p.line);
    if (p.column != 0) where += ":" + std::to_string(p.column);
    errors.push_back(where + ": " + p.message);
  }
  return problems.empty();
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
  bool syntax_error = false;
  if (parse_config_text(contents, path, config, errors, &syntax_error)) return FileLoad::kClean;
  return syntax_error ? FileLoad::kBadSyntax : FileLoad::kBadLines;
}

}  // namespace sb::app
