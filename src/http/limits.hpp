// ConnectionLimits: the numbers that bound what one HTTP client may cost us.
//
// Every limit protects memory or a file descriptor from a slow, broken or hostile
// client: oversized heads and bodies are refused before they are buffered, a head
// that trickles in is cut off (slowloris), an idle keep-alive connection is closed,
// and a client that stops reading its responses is dropped before its backlog grows.
// One instance is shared by all connections of a listener.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace sb::http {

struct ConnectionLimits {
  std::size_t max_header_bytes = 8192;      // request line + headers; over -> 431
  std::size_t max_body_bytes = 65536;       // de-chunked body; over -> 413
  std::size_t max_url_bytes = 2048;         // request target; over -> 414
  std::size_t max_pipelined = 8;            // requests in flight per connection
  std::uint64_t header_timeout_ms = 10000;  // first byte -> end of headers; over -> 408
  std::uint64_t idle_timeout_ms = 120000;   // nothing in flight; over -> silent close
  std::size_t max_unsent_bytes = 1 << 20;   // transport backlog; over -> close
  // Paths whose requests keep their RequestHead (Request::head): the WebSocket
  // path and XEP-0156's host-meta. Exact match, like the router.
  std::vector<std::string> head_paths;
};

}  // namespace sb::http
