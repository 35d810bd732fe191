#include "bosh/body_writer.hpp"

#include <charconv>

#include "xml/escape.hpp"

namespace sb::bosh {

BodyWriter::BodyWriter(std::size_t payload_hint) {
  out_.reserve(160 + payload_hint);
  out_.append("<body xmlns='").append(kHttpBindNs);
  out_.append("' xmlns:stream='").append(kStreamNs).append("'");
}

BodyWriter& BodyWriter::attr(std::string_view name, std::string_view value) {
  out_.push_back(' ');
  out_.append(name).append("='");
  xml::append_escaped_attribute(out_, value);
  out_.push_back('\'');
  return *this;
}

BodyWriter& BodyWriter::attr(std::string_view name, std::uint64_t value) {
  char digits[24];
  auto result = std::to_chars(digits, digits + sizeof digits, value);
  return attr(name, std::string_view(digits, static_cast<std::size_t>(result.ptr - digits)));
}

BodyWriter& BodyWriter::terminate(Condition condition) {
  attr("type", "terminate");
  if (condition != Condition::kNone) attr("condition", condition_name(condition));
  return *this;
}

std::string BodyWriter::finish(std::string_view payload) {
  if (payload.empty()) {
    out_.append("/>");
  } else {
    out_.push_back('>');
    out_.append(payload);
    out_.append("</body>");
  }
  return std::move(out_);
}

std::string terminate_body(Condition condition, std::string_view payload) {
  return BodyWriter(payload.size()).terminate(condition).finish(payload);
}

http::Response terminal_response(Condition condition, bool legacy, std::string_view content_type) {
  const int status = legacy_http_status(condition);
  if (legacy && status != 0) {
    return http::Response::text(status, "text/plain; charset=utf-8",
                                std::string(condition_name(condition)) + "\n");
  }
  http::Response response;
  response.content_type = std::string(content_type);
  response.body = std::make_shared<const std::string>(terminate_body(condition));
  return response;
}

}  // namespace sb::bosh
