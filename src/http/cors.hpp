// CorsPolicy: which web origins may call Switchboard from a browser, and the
// headers that tell the browser so.
//
// The BOSH page is usually served from another origin than the connection manager,
// so browsers send an Origin header (and, for a POST with Content-Type text/xml, an
// OPTIONS preflight first). The policy is a list of allowed origins; "*" allows any.
//
// The decision is taken once per request (match()) and kept as a two-byte Match in
// the connection's pending-exchange slot, so a held request does not keep a copy of
// its Origin string alive for the whole long poll.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "http/exchange.hpp"

namespace sb::http {

class CorsPolicy {
 public:
  // kNone: no CORS headers; kAny: "Access-Control-Allow-Origin: *";
  // kFirstOrigin + i: echo allowed origin i and add "Vary: Origin".
  using Match = std::uint16_t;
  static constexpr Match kNone = 0;
  static constexpr Match kAny = 1;
  static constexpr Match kFirstOrigin = 2;

  CorsPolicy() = default;  // allows no origin
  explicit CorsPolicy(std::vector<std::string> allowed_origins);

  // The decision for a request carrying this Origin header ("" when absent).
  Match match(std::string_view origin) const;
  bool allows(std::string_view origin) const { return match(origin) != kNone; }

  // Appends "Name: value\r\n" lines for a response to a request with this match.
  void append_headers(Match match, std::string& head) const;

  // The answer to an OPTIONS request on a routed path. With an allowed Origin: 200
  // and the preflight headers (the connection adds Allow-Origin). With an Origin we
  // do not allow: 403, no CORS headers. Without Origin (a plain OPTIONS): 200 with
  // an Allow header listing `allow_methods`.
  Response preflight(const Request& request, std::string_view allow_methods) const;

 private:
  std::vector<std::string> origins_;
  bool any_ = false;
};

}  // namespace sb::http
