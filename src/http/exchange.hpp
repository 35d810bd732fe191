// The contract between the HTTP layer and whatever answers requests (BOSH, the demo
// page, the status page): a parsed Request and an Exchange through which its
// Response is sent, possibly much later (a BOSH long poll).
//
// The HTTP connection owns every Exchange. A handler that keeps one (a held BOSH
// request) registers an ExchangeWatcher; if the connection dies first, the watcher
// is told and must forget the exchange. After send() the handler must not touch the
// exchange again.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace sb::http {

enum class Method : std::uint8_t { kGet, kHead, kPost, kOptions, kOther };

struct Request {
  Method method = Method::kOther;
  std::string path;          // the target's path, without the query string
  std::string origin;        // the Origin header, empty if absent
  std::string content_type;  // the Content-Type header, empty if absent
  std::string body;          // the whole body, de-chunked
  std::string peer;          // "ip" of the client, for logs and per-address caps
  std::string forwarded_for;  // X-Forwarded-For, repeated headers joined by ","; empty if absent
  std::string forwarded;      // Forwarded (RFC 7239), likewise
  bool keep_alive = true;
};

// A response body that may be shared: BOSH keeps its responses for retransmission,
// so the same bytes can be sent again without a copy.
using SharedBody = std::shared_ptr<const std::string>;

struct Response {
  int status = 200;
  std::string content_type = "text/xml; charset=utf-8";
  SharedBody body;                                        // may be null: no body
  std::vector<std::pair<std::string, std::string>> extra_headers;
  bool close = false;  // close the connection after this response

  static Response text(int status, std::string content_type, std::string body);
};

class Exchange;

class ExchangeWatcher {
 public:
  // The connection of `exchange` is gone; it must not be used any more.
  virtual void exchange_lost(Exchange& exchange) = 0;

 protected:
  ~ExchangeWatcher() = default;
};

class Exchange {
 public:
  virtual void send(Response response) = 0;
  void watch(ExchangeWatcher* watcher) { watcher_ = watcher; }
  ExchangeWatcher* watcher() const { return watcher_; }

 protected:
  ~Exchange() = default;

 private:
  ExchangeWatcher* watcher_ = nullptr;
};

// What the HTTP connection calls for every complete request, in order.
class Handler {
 public:
  virtual void handle(Request& request, Exchange& exchange) = 0;

 protected:
  ~Handler() = default;
};

}  // namespace sb::http
