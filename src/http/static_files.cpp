// Loading a directory into memory and serving it; see static_files.hpp.
#include "http/static_files.hpp"

#include <fstream>
#include <memory>
#include <system_error>

#include "http/router.hpp"

namespace sb::http {
namespace {

bool ends_with(std::string_view text, std::string_view suffix) {
  return text.size() >= suffix.size() && text.substr(text.size() - suffix.size()) == suffix;
}

// Reads exactly `size` bytes (the size listed in the directory).
bool read_file(const std::filesystem::path& path, std::size_t size, std::string& contents) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return false;
  contents.resize(size);
  in.read(contents.data(), static_cast<std::streamsize>(size));
  return static_cast<std::size_t>(in.gcount()) == size;
}

}  // namespace

StaticFiles::StaticFiles(const std::filesystem::path& directory) {
  std::error_code ec;
  std::filesystem::directory_iterator it(directory, ec);
  if (ec) {
    error_ = "cannot read directory " + directory.string() + ": " + ec.message();
    return;
  }
  for (const std::filesystem::directory_iterator end; it != end; it.increment(ec)) {
    if (ec) break;
    const std::filesystem::directory_entry& entry = *it;
    const std::string name = entry.path().filename().string();
    if (name.empty() || name.front() == '.') continue;
    std::error_code entry_ec;
    if (!entry.is_regular_file(entry_ec)) continue;
    const std::uintmax_t size = entry.file_size(entry_ec);
    std::string contents;
    if (entry_ec || size > kMaxFileBytes ||
        !read_file(entry.path(), static_cast<std::size_t>(size), contents)) {
      skipped_.push_back(name);
      continue;
    }
    files_.emplace(name, File{std::string(content_type_for(name)),
                              std::make_shared<const std::string>(std::move(contents))});
  }
  if (ec) {
    files_.clear();
    error_ = "cannot list directory " + directory.string() + ": " + ec.message();
  }
}

std::string_view StaticFiles::content_type_for(std::string_view name) {
  if (ends_with(name, ".html")) return "text/html; charset=utf-8";
  if (ends_with(name, ".js")) return "text/javascript; charset=utf-8";
  if (ends_with(name, ".css")) return "text/css; charset=utf-8";
  if (ends_with(name, ".svg")) return "image/svg+xml";
  if (ends_with(name, ".png")) return "image/png";
  if (ends_with(name, ".ico")) return "image/x-icon";
  if (ends_with(name, ".json")) return "application/json";
  if (ends_with(name, ".txt")) return "text/plain; charset=utf-8";
  return "application/octet-stream";
}

void StaticFiles::mount(Router& router) {
  const MethodMask get = method_bit(Method::kGet);
  if (files_.count("index.html") != 0) router.add("/", get, *this);
  for (const auto& [name, file] : files_) router.add("/" + name, get, *this);
}

const StaticFiles::File* StaticFiles::find(std::string_view path) const {
  if (path.empty() || path.front() != '/') return nullptr;
  path.remove_prefix(1);
  if (path.empty()) path = "index.html";
  const auto it = files_.find(std::string(path));
  return it == files_.end() ? nullptr : &it->second;
}

void StaticFiles::handle(Request& request, Exchange& exchange) {
  const File* file = find(request.path);
  if (file == nullptr || (request.method != Method::kGet && request.method != Method::kHead)) {
    exchange.send(Response::text(404, "text/plain; charset=utf-8", "Not Found\n"));
    return;
  }
  Response response;
  response.content_type = file->content_type;
  response.body = file->body;  // shared, not copied
  exchange.send(std::move(response));
}

}  // namespace sb::http
