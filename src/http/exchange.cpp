#include "http/exchange.hpp"

namespace sb::http {

Response Response::text(int status, std::string content_type, std::string body) {
  Response response;
  response.status = status;
  response.content_type = std::move(content_type);
  response.body = std::make_shared<const std::string>(std::move(body));
  return response;
}

Response Response::unavailable(std::string body, std::uint32_t retry_after_s) {
  Response response = text(503, "text/plain; charset=utf-8", std::move(body));
  response.extra_headers.emplace_back("Retry-After", std::to_string(retry_after_s));
  return response;
}

}  // namespace sb::http
