// See http_date.hpp. One process serves one event loop, so the cache needs no lock.
#include "http/http_date.hpp"

#include <ctime>

namespace sb::http {

std::string_view http_date_now() {
  static std::time_t cached_second = 0;
  static char text[40] = {};
  static std::size_t length = 0;
  const std::time_t now = std::time(nullptr);
  if (now != cached_second) {
    std::tm utc{};
    gmtime_r(&now, &utc);
    length = std::strftime(text, sizeof text, "%a, %d %b %Y %H:%M:%S GMT", &utc);
    cached_second = now;
  }
  return {text, length};
}

}  // namespace sb::http
