// CorsPolicy: which web origins may call Switchboard from a browser, and the
// headers that tell the browser so.
//
// The BOSH page is usually served from another origin than the connection manager,
// so browsers send an Origin header (and, for a POST with Content-Type text/xml, an
// OPTIONS preflight first). The policy is a list of allowed origins; "*" allows any.
// Any is the default (app/config), as with ejabberd's and Prosody's own BOSH: BOSH
// carries no cookies or HTTP credentials (they travel inside the XMPP stream), so
// answering another origin exposes nothing a page could not get by itself.
//
// A narrowed list refuses other origins silently as far as the browser can tell
// (no CORS headers: the page just sees a network error), so the operator is told
// instead: the first refusal of each origin goes to the refusal hook (the worker
// logs it, naming the key to change). At most kMaxReportedOrigins distinct origins
// are remembered, so a flood of made-up Origin headers costs bounded memory.
//
// The decision is taken once per request (match()) and kept as a two-byte Match in
// the connection's pending-exchange slot, so a held request does not keep a copy of
// its Origin string alive for the whole long poll.
//
// The list can change while requests are held (a reload, set_origins()). A Match
// is an index into origins_, so entries never move: an origin taken off the list
// stays as a withdrawn entry, still echoed in the answer to a request admitted
// before (that request was allowed), but matched by no new request; an origin put
// back takes its old entry again. The list thus grows only by origins that were
// never configured before.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <unordered_set>
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

  // Called with each refused origin the first time it is refused.
  using RefusalHook = std::function<void(std::string_view origin)>;
  static constexpr std::size_t kMaxReportedOrigins = 256;

  CorsPolicy() = default;  // allows no origin
  explicit CorsPolicy(std::vector<std::string> allowed_origins);

  void set_refusal_hook(RefusalHook hook) { refusal_hook_ = std::move(hook); }

  // Replaces the allowed origins (a reload); requests already matched keep their
  // answer's headers (see above). The refusals are reported afresh.
  void set_origins(const std::vector<std::string>& allowed_origins);

  // The decision for a request carrying this Origin header ("" when absent). A
  // refusal is reported to the hook once per origin.
  Match match(std::string_view origin) const;
  bool allows(std::string_view origin) const { return match(origin) != kNone; }

  // A request that moved here from another process (an upgrade in place) with its
  // decision as text: "" (none), "*" (any) or the origin it was allowed. It keeps
  // that answer even if this policy no longer allows the origin, as a request held
  // across a reload does (an entry withdrawn from the start, if it is new).
  std::string_view decision_text(Match match) const;
  Match admitted(std::string_view decision);

  // Appends "Name: value\r\n" lines for a response to a request with this match.
  void append_headers(Match match, std::string& head) const;

  // The answer to an OPTIONS request on a routed path. With an allowed Origin: 200
  // and the preflight headers (the connection adds Allow-Origin). With an Origin we
  // do not allow: 403, no CORS headers. Without Origin (a plain OPTIONS): 200 with
  // an Allow header listing `allow_methods`.
  Response preflight(const Request& request, std::string_view allow_methods) const;

 private:
  void report_refusal(std::string_view origin) const;

  struct Entry {
    std::string origin;
    bool allowed = true;  // false: withdrawn by set_origins(), kept for held requests
  };
  std::vector<Entry> origins_;
  bool any_ = false;
  RefusalHook refusal_hook_;
  // Which refused origins were reported; the policy's decisions stay const.
  mutable std::unordered_set<std::string> reported_;
};

}  // namespace sb::http
