// StaticFiles: loading a directory into memory and serving it through a Router.
#include <doctest/doctest.h>

#include <filesystem>
#include <fstream>
#include <random>

#include "http/fakes.hpp"
#include "http/router.hpp"
#include "http/static_files.hpp"

using namespace sb::http;
using sb::http::test::FakeExchange;

namespace {

// A fresh directory under the system temp dir, removed at the end of the test.
struct TempDir {
  TempDir() {
    std::random_device random;
    path = std::filesystem::temp_directory_path() /
           ("sb-static-" + std::to_string(random()) + std::to_string(random()));
    std::filesystem::create_directories(path);
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path, ec);
  }
  void write(const std::string& name, const std::string& contents) const {
    std::ofstream(path / name, std::ios::binary) << contents;
  }
  std::filesystem::path path;
};

Response get(Router& router, const std::string& path, Method method = Method::kGet) {
  Request request;
  request.method = method;
  request.path = path;
  FakeExchange exchange;
  router.handle(request, exchange);
  return exchange.sent;
}

}  // namespace

TEST_CASE("static files are loaded from one directory and served by name") {
  TempDir dir;
  dir.write("index.html", "<html>hi</html>");
  dir.write("app.js", "console.log(1)");
  dir.write("style.css", "body{}");
  dir.write("data.bin", "\x01\x02");
  dir.write(".hidden", "secret");
  dir.write("big.txt", std::string(StaticFiles::kMaxFileBytes + 1, 'x'));
  std::filesystem::create_directory(dir.path / "sub");
  dir.write("sub/inner.html", "no");

  StaticFiles files(dir.path);
  REQUIRE(files.ok());
  CHECK(files.file_count() == 4);
  REQUIRE(files.skipped().size() == 1);
  CHECK(files.skipped()[0] == "big.txt");

  CorsPolicy cors;
  Router router(cors);
  files.mount(router);

  Response index = get(router, "/");
  CHECK(index.status == 200);
  CHECK(index.content_type == "text/html; charset=utf-8");
  REQUIRE(index.body != nullptr);
  CHECK(*index.body == "<html>hi</html>");
  CHECK(get(router, "/index.html").body == index.body);  // shared, loaded once

  Response js = get(router, "/app.js");
  CHECK(js.content_type == "text/javascript; charset=utf-8");
  CHECK(*js.body == "console.log(1)");
  CHECK(get(router, "/style.css").content_type == "text/css; charset=utf-8");
  CHECK(get(router, "/data.bin").content_type == "application/octet-stream");
  CHECK(get(router, "/app.js", Method::kHead).status == 200);

  CHECK(get(router, "/.hidden").status == 404);
  CHECK(get(router, "/big.txt").status == 404);
  CHECK(get(router, "/sub/inner.html").status == 404);
  CHECK(get(router, "/missing.js").status == 404);
  CHECK(get(router, "/app.js", Method::kPost).status == 405);
}

TEST_CASE("static files: unknown names get 404 from the handler itself") {
  TempDir dir;
  dir.write("a.txt", "a");
  StaticFiles files(dir.path);
  Request request;
  request.method = Method::kGet;
  request.path = "/";  // no index.html here
  FakeExchange exchange;
  files.handle(request, exchange);
  CHECK(exchange.sent.status == 404);
}

TEST_CASE("content types by extension") {
  CHECK(StaticFiles::content_type_for("a.svg") == "image/svg+xml");
  CHECK(StaticFiles::content_type_for("a.png") == "image/png");
  CHECK(StaticFiles::content_type_for("favicon.ico") == "image/x-icon");
  CHECK(StaticFiles::content_type_for("x.json") == "application/json");
  CHECK(StaticFiles::content_type_for("x.txt") == "text/plain; charset=utf-8");
}

TEST_CASE("a missing directory is reported, not thrown") {
  StaticFiles files("/nonexistent/switchboard/static");
  CHECK_FALSE(files.ok());
  CHECK(files.error().find("/nonexistent/switchboard/static") != std::string::npos);
  CHECK(files.file_count() == 0);
}
