// The config file reader: a deliberately tiny line format.
//
//   # a comment            blank lines are fine too
//   listen = 0.0.0.0:5280   # a comment after whitespace
//   cors_origins = https://a.example https://b.example   (lists: space-separated)
//   upstream.example.com = xmpp.internal:5222           (one line per domain)
//
// Each line is handed to apply_setting() (config.hpp), which owns the keys and
// their checks. The reader never stops at the first problem: an operator fixing a
// file wants every bad line at once, so every problem is collected as
// "FILE:LINE: message" and the good lines are still applied. A key may appear
// only once per file; a second occurrence is reported, not silently preferred.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "app/config.hpp"

namespace sb::app {

// Parses `text`, the contents of the file called `file_name` (used only in the
// messages), applying every good line to `config` and appending one message per
// bad line to `errors`. Returns true if it added no error.
bool parse_config_text(std::string_view text, std::string_view file_name, Config& config,
                       std::vector<std::string>& errors);

// What load_config_file() made of the file.
enum class FileLoad { kClean, kBadLines, kUnreadable };

// Reads `path` and parses it as above. A file that cannot be read is one error,
// "PATH: cannot read: <reason>", and kUnreadable.
FileLoad load_config_file(const std::string& path, Config& config, std::vector<std::string>& errors);

}  // namespace sb::app
