// Response head serialization; see response_head.hpp. The header order is fixed
// (Date, Content-Type, Content-Length, CORS, Connection, extra headers) so that tests can
// compare exact bytes.
#include "http/response_head.hpp"

#include <string_view>

#include "http/status_text.hpp"

namespace sb::http {
namespace {

bool has_line_break(std::string_view text) {
  return text.find_first_of("\r\n") != std::string_view::npos;
}

}  // namespace

bool status_allows_body(int status) { return status >= 200 && status != 204 && status != 304; }

std::string format_response_head(const Response& response, const CorsPolicy& cors,
                                 const HeadOptions& options) {
  std::string head;
  head.reserve(160);
  head += "HTTP/1.1 ";
  head += std::to_string(response.status);
  head += ' ';
  head += status_text(response.status);
  head += "\r\n";
  if (!options.date.empty()) {
    head += "Date: ";
    head += options.date;
    head += "\r\n";
  }

  if (status_allows_body(response.status)) {
    const std::size_t length = response.body ? response.body->size() : 0;
    if (length > 0 && !response.content_type.empty()) {
      head += "Content-Type: ";
      head += response.content_type;
      head += "\r\n";
    }
    head += "Content-Length: ";
    head += std::to_string(length);
    head += "\r\n";
  }

  cors.append_headers(options.cors, head);

  if (options.close) {
    head += "Connection: close\r\n";
  } else if (options.keep_alive_header) {
    head += "Connection: keep-alive\r\n";
  }

  for (const auto& [name, value] : response.extra_headers) {
    if (name.empty() || has_line_break(name) || has_line_break(value)) continue;
    head += name;
    head += ": ";
    head += value;
    head += "\r\n";
  }
  head += "\r\n";
  return head;
}

}  // namespace sb::http
