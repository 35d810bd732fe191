// CORS decisions and headers; see cors.hpp. Origins are compared exactly: browsers
// send them serialized in lowercase, and the configuration is expected to match.
#include "http/cors.hpp"

#include <algorithm>
#include <limits>

namespace sb::http {

CorsPolicy::CorsPolicy(std::vector<std::string> allowed_origins) { set_origins(allowed_origins); }

void CorsPolicy::set_origins(const std::vector<std::string>& allowed_origins) {
  any_ = false;
  for (Entry& entry : origins_) entry.allowed = false;
  for (const std::string& origin : allowed_origins) {
    if (origin == "*") {
      any_ = true;
      continue;
    }
    if (origin.empty()) continue;
    const auto it = std::find_if(origins_.begin(), origins_.end(),
                                 [&](const Entry& entry) { return entry.origin == origin; });
    if (it != origins_.end()) {
      it->allowed = true;
    } else if (origins_.size() < std::numeric_limits<Match>::max() - kFirstOrigin) {
      origins_.push_back({origin, true});
    }
  }
  reported_.clear();
}

CorsPolicy::Match CorsPolicy::match(std::string_view origin) const {
  if (origin.empty()) return kNone;
  if (any_) return kAny;
  const auto it = std::find_if(origins_.begin(), origins_.end(), [&](const Entry& entry) {
    return entry.allowed && entry.origin == origin;
  });
  if (it == origins_.end()) {
    report_refusal(origin);
    return kNone;
  }
  return static_cast<Match>(kFirstOrigin + static_cast<std::size_t>(it - origins_.begin()));
}

std::string_view CorsPolicy::decision_text(Match match) const {
  if (match == kNone) return {};
  if (match == kAny) return "*";
  const std::size_t index = match - kFirstOrigin;
  return index < origins_.size() ? std::string_view(origins_[index].origin) : std::string_view();
}

CorsPolicy::Match CorsPolicy::admitted(std::string_view decision) {
  if (decision.empty()) return kNone;
  if (decision == "*") return kAny;
  auto it = std::find_if(origins_.begin(), origins_.end(),
                         [&](const Entry& entry) { return entry.origin == decision; });
  if (it == origins_.end()) {
    if (origins_.size() >= std::numeric_limits<Match>::max() - kFirstOrigin) return kNone;
    origins_.push_back({std::string(decision), false});
    it = origins_.end() - 1;
  }
  return static_cast<Match>(kFirstOrigin + static_cast<std::size_t>(it - origins_.begin()));
}

void CorsPolicy::report_refusal(std::string_view origin) const {
  if (!refusal_hook_ || reported_.size() >= kMaxReportedOrigins) return;
  if (reported_.emplace(origin).second) refusal_hook_(origin);
}

void CorsPolicy::append_headers(Match match, std::string& head) const {
  if (match == kNone) return;
  if (match == kAny) {
    head += "Access-Control-Allow-Origin: *\r\n";
    return;
  }
  const std::size_t index = match - kFirstOrigin;
  if (index >= origins_.size()) return;
  head += "Access-Control-Allow-Origin: ";
  head += origins_[index].origin;
  head += "\r\nVary: Origin\r\n";
}

Response CorsPolicy::preflight(const Request& request, std::string_view allow_methods) const {
  Response response;
  response.status = 200;
  if (request.origin.empty()) {
    response.extra_headers.emplace_back("Allow", std::string(allow_methods));
    return response;
  }
  if (!allows(request.origin)) {
    response.status = 403;
    return response;
  }
  response.extra_headers.emplace_back("Access-Control-Allow-Methods", "GET, POST, OPTIONS");
  response.extra_headers.emplace_back("Access-Control-Allow-Headers", "Content-Type");
  response.extra_headers.emplace_back("Access-Control-Max-Age", "86400");
  return response;
}

}  // namespace sb::http
