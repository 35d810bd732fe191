// Router: exact paths, 404, 405 with Allow, CORS preflight, HEAD on GET routes;
// and the CorsPolicy decisions it relies on.
#include <doctest/doctest.h>

#include "http/fakes.hpp"
#include "http/router.hpp"
#include "http/status_text.hpp"

using namespace sb::http;
using sb::http::test::FakeExchange;
using sb::http::test::FakeHandler;
using sb::http::test::Harness;

namespace {

const std::string* header(const Response& response, const std::string& name) {
  for (const auto& [key, value] : response.extra_headers) {
    if (key == name) return &value;
  }
  return nullptr;
}

Request request(Method method, std::string path, std::string origin = "") {
  Request r;
  r.method = method;
  r.path = std::move(path);
  r.origin = std::move(origin);
  return r;
}

struct RouterFixture {
  CorsPolicy cors{{"https://chat.example"}};
  Router router{cors};
  FakeHandler bosh;
  FakeHandler page;
  RouterFixture() {
    router.add("/http-bind", {Method::kPost}, bosh);
    router.add("/status", method_bit(Method::kGet), page);
  }
  Response route(Request r) {
    FakeExchange exchange;
    router.handle(r, exchange);
    CHECK(exchange.sends <= 1);
    return exchange.sent;
  }
};

}  // namespace

TEST_CASE("the router sends each path to its handler") {
  RouterFixture f;
  f.route(request(Method::kPost, "/http-bind"));
  f.route(request(Method::kGet, "/status"));
  CHECK(f.bosh.requests.size() == 1);
  CHECK(f.page.requests.size() == 1);
}

TEST_CASE("an unknown path gets 404 text/plain") {
  RouterFixture f;
  const Response response = f.route(request(Method::kGet, "/http-bind/"));
  CHECK(response.status == 404);
  CHECK(response.content_type == "text/plain; charset=utf-8");
  CHECK(f.bosh.requests.empty());
}

TEST_CASE("a wrong method gets 405 with Allow") {
  RouterFixture f;
  Response response = f.route(request(Method::kGet, "/http-bind"));
  CHECK(response.status == 405);
  REQUIRE(header(response, "Allow") != nullptr);
  CHECK(*header(response, "Allow") == "POST, OPTIONS");
  response = f.route(request(Method::kPost, "/status"));
  CHECK(response.status == 405);
  CHECK(*header(response, "Allow") == "GET, HEAD, OPTIONS");
  response = f.route(request(Method::kHead, "/http-bind"));
  CHECK(response.status == 405);
  CHECK(f.bosh.requests.empty());
}

TEST_CASE("HEAD on a GET route reaches the handler as GET") {
  RouterFixture f;
  f.route(request(Method::kHead, "/status"));
  REQUIRE(f.page.requests.size() == 1);
  CHECK(f.page.requests[0].method == Method::kGet);
}

TEST_CASE("OPTIONS is a CORS preflight answered by the router") {
  RouterFixture f;
  SUBCASE("allowed origin") {
    const Response response =
        f.route(request(Method::kOptions, "/http-bind", "https://chat.example"));
    CHECK(response.status == 200);
    CHECK(*header(response, "Access-Control-Allow-Methods") == "GET, POST, OPTIONS");
    CHECK(*header(response, "Access-Control-Allow-Headers") == "Content-Type");
    CHECK(*header(response, "Access-Control-Max-Age") == "86400");
  }
  SUBCASE("origin not allowed") {
    const Response response =
        f.route(request(Method::kOptions, "/http-bind", "https://evil.example"));
    CHECK(response.status == 403);
    CHECK(response.extra_headers.empty());
  }
  SUBCASE("no origin: a plain OPTIONS") {
    const Response response = f.route(request(Method::kOptions, "/http-bind"));
    CHECK(response.status == 200);
    CHECK(*header(response, "Allow") == "POST, OPTIONS");
  }
  SUBCASE("unknown path") {
    CHECK(f.route(request(Method::kOptions, "/nope", "https://chat.example")).status == 404);
  }
  CHECK(f.bosh.requests.empty());
}

TEST_CASE("a preflight through a connection carries Allow-Origin exactly once") {
  CorsPolicy cors({"https://chat.example"});
  Router router(cors);
  FakeHandler bosh;
  router.add("/http-bind", {Method::kPost}, bosh);
  sb::base::TimerWheel wheel(0);
  sb::http::test::FakeTransport transport;
  ConnectionLimits limits;
  Connection connection(transport, router, limits, cors, wheel, "::1");
  connection.feed(
      "OPTIONS /http-bind HTTP/1.1\r\nOrigin: https://chat.example\r\n"
      "Access-Control-Request-Method: POST\r\nAccess-Control-Request-Headers: "
      "content-type\r\n\r\n");
  CHECK(transport.wire() ==
        "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n"
        "Access-Control-Allow-Origin: https://chat.example\r\nVary: Origin\r\n"
        "Access-Control-Allow-Methods: GET, POST, OPTIONS\r\n"
        "Access-Control-Allow-Headers: Content-Type\r\n"
        "Access-Control-Max-Age: 86400\r\n\r\n");
}

TEST_CASE("HEAD through router and connection keeps Content-Length, drops the body") {
  CorsPolicy cors;
  Router router(cors);
  FakeHandler page;
  router.add("/status", {Method::kGet}, page);
  sb::base::TimerWheel wheel(0);
  sb::http::test::FakeTransport transport;
  ConnectionLimits limits;
  Connection connection(transport, router, limits, cors, wheel, "::1");
  connection.feed("HEAD /status HTTP/1.1\r\n\r\n");
  CHECK(transport.wire() ==
        "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 8\r\n\r\n");
}

TEST_CASE("CorsPolicy matches exact origins or any") {
  const CorsPolicy none;
  CHECK(none.match("https://a.example") == CorsPolicy::kNone);
  const CorsPolicy listed({"https://a.example", "https://b.example"});
  CHECK(listed.allows("https://b.example"));
  CHECK_FALSE(listed.allows("https://c.example"));
  CHECK_FALSE(listed.allows("https://a.example.evil"));
  CHECK_FALSE(listed.allows(""));
  std::string head;
  listed.append_headers(listed.match("https://b.example"), head);
  CHECK(head == "Access-Control-Allow-Origin: https://b.example\r\nVary: Origin\r\n");
  const CorsPolicy any({"https://a.example", "*"});
  CHECK(any.match("https://zzz.example") == CorsPolicy::kAny);
  CHECK(any.match("") == CorsPolicy::kNone);
}

TEST_CASE("status_text knows the codes we send") {
  CHECK(status_text(200) == "OK");
  CHECK(status_text(408) == "Request Timeout");
  CHECK(status_text(431) == "Request Header Fields Too Large");
  CHECK(status_text(799) == "Unknown");
}
