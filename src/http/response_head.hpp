// Serializing a Response's status line and headers.
//
// Every response carries Content-Length (we never send chunked), so a keep-alive
// client always knows where a response ends. The body is not part of the head: it
// is written as a shared buffer next to it, so BOSH can resend a cached response
// without copying it.
#pragma once

#include <string>

#include "http/cors.hpp"
#include "http/exchange.hpp"

namespace sb::http {

struct HeadOptions {
  bool head_only = false;          // answer to HEAD: Content-Length kept, no body sent
  bool close = false;              // "Connection: close"; the connection ends after it
  bool keep_alive_header = false;  // "Connection: keep-alive" (for HTTP/1.0 clients)
  CorsPolicy::Match cors = CorsPolicy::kNone;
  std::string_view date;  // the Date header's value; empty = none
};

// 1xx, 204 and 304 responses have neither a body nor a Content-Length.
bool status_allows_body(int status);

// "HTTP/1.1 <status> <reason>\r\n" ... "\r\n". Extra headers whose name or value
// contains CR or LF are dropped rather than allowed to split the response.
std::string format_response_head(const Response& response, const CorsPolicy& cors,
                                 const HeadOptions& options);

}  // namespace sb::http
