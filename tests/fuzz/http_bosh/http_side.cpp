// The checks a client would make of every byte the Connection writes, and of every
// Exchange the handlers use; see http_side.hpp.
#include "http_bosh/http_side.hpp"

#include <charconv>
#include <optional>
#include <string_view>

#include "support/check.hpp"
#include "support/trace.hpp"

namespace sb::fuzz {
namespace {

// The value of header `name` in `head`, if present (first occurrence).
std::optional<std::string_view> header_value(std::string_view head, std::string_view name) {
  std::size_t at = 0;
  while ((at = head.find("\r\n", at)) != std::string_view::npos) {
    at += 2;
    const std::string_view line = head.substr(at, head.find("\r\n", at) - at);
    if (line.size() > name.size() + 1 && line.substr(0, name.size()) == name &&
        line[name.size()] == ':') {
      std::string_view value = line.substr(name.size() + 1);
      while (!value.empty() && value.front() == ' ') value.remove_prefix(1);
      return value;
    }
  }
  return std::nullopt;
}

std::optional<std::uint64_t> to_number(std::string_view text) {
  std::uint64_t value = 0;
  const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (error != std::errc() || end != text.data() + text.size()) return std::nullopt;
  return value;
}

// Line breaks are CRLF only and the head ends at its one blank line: anything else
// would let a header value split the response.
void check_head_shape(std::string_view head) {
  FUZZ_CHECK(head.substr(0, 9) == "HTTP/1.1 " && head.size() >= 16, head);
  FUZZ_CHECK(head.find("\r\n\r\n") == head.size() - 4, head);
  for (std::size_t i = 0; i < head.size(); ++i) {
    if (head[i] == '\r') FUZZ_CHECK(i + 1 < head.size() && head[i + 1] == '\n', head);
    if (head[i] == '\n') FUZZ_CHECK(i > 0 && head[i - 1] == '\r', head);
  }
}

bool is_refusal_status(std::uint64_t status) {
  switch (status) {
    case 400:
    case 408:
    case 413:
    case 414:
    case 417:
    case 431:
    case 501:
    case 505: return true;
    default: return false;
  }
}

}  // namespace

void CheckedTransport::write(std::string head, std::shared_ptr<const std::string> body) {
  if (tracing()) trace("  <<", head + (body ? *body : std::string()));
  FUZZ_CHECK(!closed, "write() after close(): " + head);
  FUZZ_CHECK(!final_written, "write() after the connection's last answer: " + head);
  check_head_shape(head);
  const auto status = to_number(std::string_view(head).substr(9, 3));
  FUZZ_CHECK(status.has_value(), head);

  if (*status == 100) {
    FUZZ_CHECK(head == "HTTP/1.1 100 Continue\r\n\r\n" && body == nullptr, head);
    return;
  }
  ++responses;

  const auto length = header_value(head, "Content-Length");
  const bool body_allowed = *status >= 200 && *status != 204 && *status != 304;
  if (body_allowed) {
    FUZZ_CHECK(length.has_value() && to_number(*length).has_value(), head);
    // A HEAD answer keeps the length of the body it does not send.
    if (body != nullptr) FUZZ_CHECK(*to_number(*length) == body->size(), head);
  } else {
    FUZZ_CHECK(!length.has_value() && body == nullptr, head);
  }

  const bool closes = head.find("\r\nConnection: close\r\n") != std::string::npos;
  if (const auto seq = header_value(head, kSeqHeader)) {
    // A handler's answer: exactly the next request in order.
    FUZZ_CHECK(to_number(*seq) == std::optional<std::uint64_t>(next_seq),
               "answer out of order, expected seq " + std::to_string(next_seq) + ": " + head);
    ++next_seq;
  } else {
    // The connection's own refusal: an error status, and the last thing it says.
    FUZZ_CHECK(is_refusal_status(*status) && closes, "untagged answer: " + head);
  }
  if (closes) final_written = true;
}

void CheckedTransport::close() {
  FUZZ_CHECK(!closed, "close() called twice");
  closed = true;
}

void TapExchange::send(http::Response response) {
  if (state_ == State::kLost && losing_) return;  // allowed, and ignored by the Connection
  FUZZ_CHECK(state_ != State::kAnswered,
             "second send() on an exchange, seq " + std::to_string(seq_));
  FUZZ_CHECK(state_ != State::kLost, "send() on a lost exchange, seq " + std::to_string(seq_));
  state_ = State::kAnswered;
  http::Exchange* inner = inner_;
  inner_ = nullptr;
  response.extra_headers.emplace_back(kSeqHeader, std::to_string(seq_));
  inner->send(std::move(response));  // may free `inner`, and even close the connection
}

void TapExchange::exchange_lost(http::Exchange&) {
  FUZZ_CHECK(state_ == State::kPending,
             "an answered exchange reported lost, seq " + std::to_string(seq_));
  state_ = State::kLost;
  inner_ = nullptr;
  if (http::ExchangeWatcher* watcher = this->watcher()) {
    losing_ = true;
    watcher->exchange_lost(*this);
    losing_ = false;
  }
}

void TapHandler::handle(http::Request& request, http::Exchange& exchange) {
  const auto seq = static_cast<std::uint32_t>(taps_.size());
  taps_.push_back(std::make_unique<TapExchange>(exchange, seq, clock_.now_ms()));
  TapExchange& tap = *taps_.back();
  exchange.watch(&tap);
  next_.handle(request, tap);
}

}  // namespace sb::fuzz
