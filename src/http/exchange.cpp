#include "http/exchange.hpp"

namespace sb::http {

Response Response::text(int status, std::string content_type, std::string body) {
  Response response;
  response.status = status;
  response.content_type = std::move(content_type);
  response.body = std::make_shared<const std::string>(std::move(body));
  return response;
}

}  // namespace sb::http
