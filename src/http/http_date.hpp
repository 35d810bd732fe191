// The value of the Date header (RFC 9110 §6.6.1: an origin server with a clock
// must send one), in IMF-fixdate form: "Sun, 22 Nov 2026 10:02:23 GMT". It is
// formatted at most once per second and shared by every response of the process.
#pragma once

#include <string_view>

namespace sb::http {

std::string_view http_date_now();

}  // namespace sb::http
