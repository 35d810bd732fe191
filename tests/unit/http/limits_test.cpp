// Every connection limit and the status code it answers with, plus the timeouts
// (driven by advancing the TimerWheel by hand).
#include <doctest/doctest.h>

#include "http/fakes.hpp"

using namespace sb::http;
using sb::http::test::Harness;

namespace {

// The status line of the only response written, and whether the connection closed.
void check_refused(const Harness& h, const std::string& status_line) {
  REQUIRE(h.transport.writes.size() == 1);
  const std::string& head = h.transport.writes[0].head;
  CHECK(head.rfind(status_line + "\r\n", 0) == 0);
  CHECK(head.find("Connection: close\r\n") != std::string::npos);
  CHECK(h.transport.closed);
  CHECK(h.handler.requests.empty());
}

}  // namespace

TEST_CASE("a URL over max_url_bytes gets 414") {
  ConnectionLimits limits;
  limits.max_url_bytes = 100;
  Harness h(limits);
  h.feed("GET /" + std::string(100, 'a') + " HTTP/1.1\r\n\r\n");
  check_refused(h, "HTTP/1.1 414 URI Too Long");
}

TEST_CASE("a URL of exactly max_url_bytes is accepted, query included") {
  ConnectionLimits limits;
  limits.max_url_bytes = 100;
  Harness h(limits);
  h.feed("GET /" + std::string(49, 'a') + "?" + std::string(49, 'q') + " HTTP/1.1\r\n\r\n");
  REQUIRE(h.handler.requests.size() == 1);
  CHECK(h.handler.requests[0].path == "/" + std::string(49, 'a'));
}

TEST_CASE("headers over max_header_bytes get 431") {
  SUBCASE("one big header") {
    Harness h;
    h.feed("GET / HTTP/1.1\r\nX-Big: " + std::string(9000, 'b') + "\r\n\r\n");
    check_refused(h, "HTTP/1.1 431 Request Header Fields Too Large");
  }
  SUBCASE("many small headers, fed a byte at a time") {
    Harness h;
    std::string request = "GET / HTTP/1.1\r\n";
    for (int i = 0; i < 2000; ++i) request += "a: b\r\n";
    request += "\r\n";
    for (const char c : request) h.feed(std::string_view(&c, 1));
    check_refused(h, "HTTP/1.1 431 Request Header Fields Too Large");
  }
}

TEST_CASE("a Content-Length over max_body_bytes gets 413 before the body is read") {
  Harness h;
  h.feed("POST /x HTTP/1.1\r\nExpect: 100-continue\r\nContent-Length: 65537\r\n\r\n");
  check_refused(h, "HTTP/1.1 413 Content Too Large");  // and no 100 Continue
}

TEST_CASE("a chunked body growing over max_body_bytes gets 413") {
  ConnectionLimits limits;
  limits.max_body_bytes = 10;
  Harness h(limits);
  h.feed("POST /x HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n6\r\nabcdef\r\n");
  CHECK(h.transport.writes.empty());
  h.feed("5\r\nghijk\r\n0\r\n\r\n");
  check_refused(h, "HTTP/1.1 413 Content Too Large");
}

TEST_CASE("malformed HTTP gets 400") {
  SUBCASE("bad header line") {
    Harness h;
    h.feed("GET / HTTP/1.1\r\nno colon here\r\n\r\n");
    check_refused(h, "HTTP/1.1 400 Bad Request");
  }
  SUBCASE("bad chunk size") {
    Harness h;
    h.feed("POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n");
    check_refused(h, "HTTP/1.1 400 Bad Request");
  }
  SUBCASE("chunked not last") {
    Harness h;
    h.feed("POST / HTTP/1.1\r\nTransfer-Encoding: chunked, gzip\r\n\r\n");
    REQUIRE(h.transport.writes.size() == 1);
    CHECK(h.transport.closed);
    CHECK(h.handler.requests.empty());
  }
  SUBCASE("both Content-Length and chunked") {
    Harness h;
    h.feed("POST / HTTP/1.1\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n");
    check_refused(h, "HTTP/1.1 400 Bad Request");
  }
}

TEST_CASE("unsupported features get 501, 505 and 417") {
  SUBCASE("an unknown transfer coding") {
    Harness h;
    h.feed("POST / HTTP/1.1\r\nTransfer-Encoding: gzip\r\n\r\n");
    check_refused(h, "HTTP/1.1 501 Not Implemented");
  }
  SUBCASE("an unknown method") {
    Harness h;
    h.feed("FROB / HTTP/1.1\r\n\r\n");
    check_refused(h, "HTTP/1.1 501 Not Implemented");
  }
  SUBCASE("another HTTP major version") {
    Harness h;
    h.feed("GET / HTTP/2.0\r\n\r\n");
    check_refused(h, "HTTP/1.1 505 HTTP Version Not Supported");
  }
  SUBCASE("an expectation other than 100-continue") {
    Harness h;
    h.feed("POST / HTTP/1.1\r\nExpect: teapot\r\nContent-Length: 1\r\n\r\nx");
    check_refused(h, "HTTP/1.1 417 Expectation Failed");
  }
}

TEST_CASE("other methods reach the handler") {
  Harness h;
  h.feed("DELETE /x HTTP/1.1\r\n\r\nOPTIONS /x HTTP/1.1\r\n\r\nHEAD /x HTTP/1.1\r\n\r\n");
  REQUIRE(h.handler.requests.size() == 3);
  CHECK(h.handler.requests[0].method == Method::kOther);
  CHECK(h.handler.requests[1].method == Method::kOptions);
  CHECK(h.handler.requests[2].method == Method::kHead);
}

TEST_CASE("slowloris: headers not complete within header_timeout_ms get 408") {
  Harness h;
  h.feed("GET / HTTP/1.1\r\nHost: x\r\n");
  h.advance(h.limits.header_timeout_ms / 2);
  h.feed("X-Slow: 1\r\n");  // progress does not extend the deadline
  CHECK(h.transport.writes.empty());
  h.advance(h.limits.header_timeout_ms / 2);
  check_refused(h, "HTTP/1.1 408 Request Timeout");
}

TEST_CASE("a body that stops arriving gets 408 after idle_timeout_ms") {
  Harness h;
  h.feed("POST / HTTP/1.1\r\nContent-Length: 10\r\n\r\nabc");
  h.advance(h.limits.header_timeout_ms);
  CHECK(h.transport.writes.empty());
  h.advance(h.limits.idle_timeout_ms);
  check_refused(h, "HTTP/1.1 408 Request Timeout");
}

TEST_CASE("an idle keep-alive connection closes silently") {
  Harness h;
  h.feed("GET / HTTP/1.1\r\n\r\n");
  REQUIRE(h.transport.writes.size() == 1);
  h.advance(h.limits.idle_timeout_ms - 1000);
  CHECK_FALSE(h.transport.closed);
  h.feed("GET / HTTP/1.1\r\n\r\n");  // activity restarts the idle clock
  h.advance(h.limits.idle_timeout_ms - 1000);
  CHECK_FALSE(h.transport.closed);
  h.advance(1000);
  CHECK(h.transport.closed);
  CHECK(h.transport.writes.size() == 2);
}

TEST_CASE("a held request is not an idle connection") {
  Harness h;
  h.handler.hold = true;
  h.feed("GET / HTTP/1.1\r\n\r\n");
  h.advance(h.limits.idle_timeout_ms * 3);
  CHECK_FALSE(h.transport.closed);
  h.handler.exchanges[0]->send(Response::text(200, "text/plain", "x"));
  h.advance(h.limits.idle_timeout_ms);
  CHECK(h.transport.closed);
}

TEST_CASE("a client that connects and says nothing is closed after header_timeout_ms") {
  Harness h;
  h.advance(h.limits.header_timeout_ms);
  CHECK(h.transport.closed);
  CHECK(h.transport.writes.empty());
}
