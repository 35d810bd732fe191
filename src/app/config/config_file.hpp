// The config file reader: TOML (https://toml.io), parsed by toml++.
//
//   # a comment
//   listen = "0.0.0.0:5280"
//   workers = "auto"                                   # or a number
//   cors_origins = ["https://a.example", "https://b.example"]
//   max_body_bytes = "128k"                            # or 131072
//
//   [upstream]                                         # last: a table ends the top level
//   "*" = "xmpp.internal:5222"                         # sessions of any other domain
//   "example.org" = "xmpp-eu.internal:5222"
//
// Every key sits at the top level except the per-domain upstreams, which are the
// `upstream` table (written as above, or as dotted keys, upstream."example.org" =
// "..."). A TOML value is turned into the text --set takes (a string as is, an
// integer in decimal, a boolean as true/false, an array as its items separated by
// spaces) and handed to apply_setting() (config.hpp), which owns the keys and
// their checks. So the file and the command line accept the same things.
//
// The reader never stops at the first problem: an operator fixing a file wants
// every bad key at once. Problems are "FILE:LINE: message" for a key, and
// "FILE:LINE:COLUMN: message" for a TOML syntax error. toml++ stops at the first
// syntax error, so the reader blanks the offending line and parses again (up to
// kMaxSyntaxErrors times): a file in the old `key = value` format, or with several
// typos, is reported line by line, with its good keys still checked.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "app/config/config.hpp"

namespace sb::app {

inline constexpr std::size_t kMaxSyntaxErrors = 50;

// Parses `text`, the contents of the file called `file_name` (used only in the
// messages), applying every good key to `config` and appending one message per
// problem to `errors`, in line order. Returns true if it added no error.
// `syntax_error`, if given, is set when the text is not valid TOML.
bool parse_config_text(std::string_view text, std::string_view file_name, Config& config,
                       std::vector<std::string>& errors, bool* syntax_error = nullptr);

// What load_config_file() made of the file. kBadSyntax: not valid TOML, so some
// keys may be missing from `config`; kBadLines: valid TOML with bad keys.
enum class FileLoad { kClean, kBadLines, kBadSyntax, kUnreadable };

// Reads `path` and parses it as above. A file that cannot be read is one error,
// "PATH: cannot read: <reason>", and kUnreadable.
FileLoad load_config_file(const std::string& path, Config& config,
                          std::vector<std::string>& errors);

}  // namespace sb::app
