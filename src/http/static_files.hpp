// StaticFiles: the demo page and its assets, served from memory.
//
// At construction the regular files of one directory (not its subdirectories, not
// dotfiles, none over 4 MiB) are read into shared buffers, so serving one is a
// reference-count increment and never touches the disk or copies the bytes. The set
// is small and fixed for the life of the process; restart to pick up changes.
//
// "/" serves index.html and "/<name>" serves <name>; GET only (the router turns
// HEAD into GET). mount() registers those paths on a Router.
#pragma once

#include <cstddef>
#include <filesystem>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "http/exchange.hpp"

namespace sb::http {

class Router;

class StaticFiles final : public Handler {
 public:
  static constexpr std::size_t kMaxFileBytes = 4u << 20;

  // Loads the directory. On failure the set is empty and error() says why.
  explicit StaticFiles(const std::filesystem::path& directory);

  bool ok() const { return error_.empty(); }
  const std::string& error() const { return error_; }
  std::size_t file_count() const { return files_.size(); }
  // Names left out because they were too big or unreadable (for the log).
  const std::vector<std::string>& skipped() const { return skipped_; }

  // Registers "/" (when index.html exists) and "/<name>" for every file, GET only.
  void mount(Router& router);

  void handle(Request& request, Exchange& exchange) override;

  // The Content-Type for a file name, by extension.
  static std::string_view content_type_for(std::string_view name);

 private:
  struct File {
    std::string content_type;
    SharedBody body;
  };
  const File* find(std::string_view path) const;

  std::unordered_map<std::string, File> files_;  // by name, without the leading '/'
  std::vector<std::string> skipped_;
  std::string error_;
};

}  // namespace sb::http
