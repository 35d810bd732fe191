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

#include "http/method.hpp"
#include "http/request_head.hpp"

namespace sb::http {

struct Request {
  Method method = Method::kOther;
  std::string path;           // the target's path, without the query string
  std::string origin;         // the Origin header, empty if absent
  std::string content_type;   // the Content-Type header, empty if absent
  std::string body;           // the whole body, de-chunked
  std::string peer;           // "ip" of the client, for logs and per-address caps
  std::string forwarded_for;  // X-Forwarded-For, repeated headers joined by ","; empty if absent
  std::string forwarded;      // Forwarded (RFC 7239), likewise
  // Only for ConnectionLimits::head_paths: the values a handshake or host-meta
  // needs (request_head.hpp). Null for every other request.
  std::shared_ptr<RequestHead> head;  // shared: a Request stays copyable
  bool keep_alive = true;
  // llhttp saw an upgrade (Upgrade + "Connection: upgrade"): what follows the head
  // is another protocol's, unless the answer refuses it.
  bool upgrade = false;
};

// A response body that may be shared: BOSH keeps its responses for retransmission,
// so the same bytes can be sent again without a copy.
using SharedBody = std::shared_ptr<const std::string>;

struct Response {
  int status = 200;
  std::string content_type = "text/xml; charset=utf-8";
  SharedBody body;  // may be null: no body
  std::vector<std::pair<std::string, std::string>> extra_headers;
  bool close = false;  // close the connection after this response

  static Response text(int status, std::string content_type, std::string body);
  // 503 with `Retry-After: retry_after_s` and a text/plain `body`: come back later.
  static Response unavailable(std::string body, std::uint32_t retry_after_s);
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
  // Accepts an upgrade request (Request::upgrade): `head` is the complete raw
  // "101 Switching Protocols" head, written as is once every earlier answer on
  // the connection is out; then the connection hands its socket and any bytes read
  // after the request to the transport (Transport::switch_protocols) and parses no
  // more HTTP. On a request that is not an upgrade it is answered 500 instead.
  virtual void switch_protocols(std::string head) {
    (void)head;
    send(Response::text(500, "text/plain; charset=utf-8", "cannot switch protocols\n"));
  }
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
