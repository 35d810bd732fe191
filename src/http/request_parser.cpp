// llhttp callbacks and the per-message state; see request_parser.hpp.
//
// Every callback runs inside llhttp's C frames, so none may throw: each body runs
// under guarded(), which turns any exception (in practice bad_alloc) into a parse
// error answered with 500.
#include "http/request_parser.hpp"

#include <algorithm>
#include <cstring>
#include <string>

#include "base/ascii_case.hpp"

namespace sb::http {
namespace {

// The request headers we look at. Everything else is only counted against the
// header size limit. Those from kHost on are kept only in a RequestHead, for the
// paths that ask for one.
enum class Header : std::uint8_t {
  kOther,
  kOrigin,
  kContentType,
  kExpect,
  kTransferEncoding,
  kForwardedFor,
  kForwarded,
  kHost,
  kUpgrade,
  kConnection,
  kSecKey,
  kSecVersion,
  kSecProtocol,
  kForwardedProto,
  kForwardedHost,
};

constexpr std::size_t kMaxNameLength = 22;      // strlen("sec-websocket-protocol")
constexpr std::size_t kMaxValueLength = 64;     // Expect and Transfer-Encoding values
constexpr std::size_t kHeaderLineOverhead = 4;  // ": " and CRLF, not seen by callbacks

std::string_view trim(std::string_view text) {
  while (!text.empty() && (text.front() == ' ' || text.front() == '\t')) text.remove_prefix(1);
  while (!text.empty() && (text.back() == ' ' || text.back() == '\t')) text.remove_suffix(1);
  return text;
}

void trim_in_place(std::string& text) {
  const std::string_view trimmed = trim(text);
  if (trimmed.size() != text.size()) text = std::string(trimmed);
}

Method method_from(std::uint8_t llhttp_method) {
  switch (llhttp_method) {
    case HTTP_GET: return Method::kGet;
    case HTTP_HEAD: return Method::kHead;
    case HTTP_POST: return Method::kPost;
    case HTTP_OPTIONS: return Method::kOptions;
    default: return Method::kOther;
  }
}

// Absolute-form targets ("http://host/path") are legal; keep only the path.
void strip_scheme_and_authority(std::string& path) {
  std::size_t skip = 0;
  if (path.rfind("http://", 0) == 0) skip = 7;
  if (path.rfind("https://", 0) == 0) skip = 8;
  if (skip == 0) return;
  const std::size_t slash = path.find('/', skip);
  path = slash == std::string::npos ? std::string("/") : path.substr(slash);
}

}  // namespace

// Everything a request needs while it is being read, llhttp's own state included:
// between requests llhttp is at its start state, which a fresh llhttp_init gives
// back, so an idle keep-alive connection keeps none of this.
struct RequestParser::Message {
  llhttp_t parser;
  bool begun = false;  // the request's first byte was seen (not just CRLFs)
  Request request;
  std::string value;  // the Expect or Transfer-Encoding value being read (capped)
  std::size_t head_bytes = 0;
  std::size_t url_bytes = 0;
  std::uint16_t error_status = 0;  // set by a callback that refuses the request
  Event event = Event::kNeedMore;  // why llhttp was paused
  Header header = Header::kOther;  // the header whose value is being read
  std::uint8_t name_length = 0;    // kMaxNameLength + 1 once the name is too long
  char name[kMaxNameLength] = {};  // the field name being read, lowercased
  bool in_query = false;           // the rest of the URL is query or fragment
  bool expect_continue = false;
};

// The llhttp settings, shared by all parsers. Each callback finds its parser in
// llhttp_t::data.
struct RequestParser::Callbacks {
  template <typename Body>
  static int guarded(llhttp_t* p, Body&& body) noexcept {
    auto& self = *static_cast<RequestParser*>(p->data);
    try {
      return body(self);
    } catch (...) {
      if (self.message_) self.message_->error_status = 500;
      return HPE_USER;
    }
  }

  static int refuse(Message& message, std::uint16_t status) {
    message.error_status = status;
    return HPE_USER;
  }

  static int count_head(RequestParser& self, std::size_t bytes) {
    Message& message = *self.message_;
    message.head_bytes += bytes;
    return message.head_bytes > self.limits_.max_header_bytes ? refuse(message, 431) : 0;
  }

  static int on_message_begin(llhttp_t* p) {
    return guarded(p, [](RequestParser& self) {
      self.message_->begun = true;
      self.message_->event = Event::kMessageBegin;
      return static_cast<int>(HPE_PAUSED);
    });
  }

  static int on_url(llhttp_t* p, const char* at, std::size_t length) {
    return guarded(p, [=](RequestParser& self) {
      Message& message = *self.message_;
      message.url_bytes += length;
      if (message.url_bytes > self.limits_.max_url_bytes) return refuse(message, 414);
      if (const int error = count_head(self, length)) return error;
      if (!message.in_query) {
        const std::string_view span(at, length);
        const std::size_t end = span.find_first_of("?#");
        message.request.path.append(span.substr(0, end));
        message.in_query = end != std::string_view::npos;
      }
      return 0;
    });
  }

  static int on_url_complete(llhttp_t* p) {
    return guarded(p, [](RequestParser& self) {
      Request& request = self.message_->request;
      strip_scheme_and_authority(request.path);
      const auto& paths = self.limits_.head_paths;
      if (std::find(paths.begin(), paths.end(), request.path) != paths.end()) {
        request.head = std::make_shared<RequestHead>();
        request.head->path = request.path;
      }
      return 0;
    });
  }

  // Where the value of a RequestHead header goes (null: not kept).
  static std::string* head_value(Message& message) {
    RequestHead* head = message.request.head.get();
    if (head == nullptr) return nullptr;
    switch (message.header) {
      case Header::kHost: return &head->host;
      case Header::kUpgrade: return &head->upgrade;
      case Header::kConnection: return &head->connection;
      case Header::kSecKey: return &head->sec_websocket_key;
      case Header::kSecVersion: return &head->sec_websocket_version;
      case Header::kSecProtocol: return &head->sec_websocket_protocol;
      case Header::kForwardedProto: return &head->forwarded_proto;
      case Header::kForwardedHost: return &head->forwarded_host;
      default: return nullptr;
    }
  }

  static int on_header_field(llhttp_t* p, const char* at, std::size_t length) {
    return guarded(p, [=](RequestParser& self) {
      Message& message = *self.message_;
      for (std::size_t i = 0; i < length && message.name_length <= kMaxNameLength; ++i) {
        if (message.name_length < kMaxNameLength)
          message.name[message.name_length] = base::ascii_lower(at[i]);
        ++message.name_length;
      }
      return count_head(self, length);
    });
  }

  static int on_header_field_complete(llhttp_t* p) {
    return guarded(p, [](RequestParser& self) {
      Message& message = *self.message_;
      const std::string_view name(message.name,
                                  std::min<std::size_t>(message.name_length, kMaxNameLength));
      message.header = Header::kOther;
      if (message.name_length <= kMaxNameLength) {
        if (name == "origin") message.header = Header::kOrigin;
        if (name == "content-type") message.header = Header::kContentType;
        if (name == "expect") message.header = Header::kExpect;
        if (name == "transfer-encoding") message.header = Header::kTransferEncoding;
        // Forwarding headers are kept for every request: the WebSocket handshake
        // and BOSH both take the client's address from them (trusted_proxies).
        if (name == "x-forwarded-for") message.header = Header::kForwardedFor;
        if (name == "forwarded") message.header = Header::kForwarded;
        if (message.request.head != nullptr) {
          if (name == "host") message.header = Header::kHost;
          if (name == "upgrade") message.header = Header::kUpgrade;
          if (name == "connection") message.header = Header::kConnection;
          if (name == "sec-websocket-key") message.header = Header::kSecKey;
          if (name == "sec-websocket-version") message.header = Header::kSecVersion;
          if (name == "sec-websocket-protocol") message.header = Header::kSecProtocol;
          if (name == "x-forwarded-proto") message.header = Header::kForwardedProto;
          if (name == "x-forwarded-host") message.header = Header::kForwardedHost;
        }
      }
      message.name_length = 0;
      // A repeated header replaces the earlier one rather than being glued to it.
      if (message.header == Header::kOrigin) message.request.origin.clear();
      if (message.header == Header::kContentType) message.request.content_type.clear();
      // A repeated head header is one list (RFC 9110 §5.3): "a, b".
      if (std::string* kept = head_value(message); kept != nullptr && !kept->empty()) {
        kept->append(", ");
      }
      // Repeated forwarding headers form one list as well.
      if (message.header == Header::kForwardedFor && !message.request.forwarded_for.empty()) {
        message.request.forwarded_for.push_back(',');
      }
      if (message.header == Header::kForwarded && !message.request.forwarded.empty()) {
        message.request.forwarded.push_back(',');
      }
      message.value.clear();
      return count_head(self, kHeaderLineOverhead);
    });
  }

  static int on_header_value(llhttp_t* p, const char* at, std::size_t length) {
    return guarded(p, [=](RequestParser& self) {
      if (const int error = count_head(self, length)) return error;
      Message& message = *self.message_;
      switch (message.header) {
        case Header::kOrigin: message.request.origin.append(at, length); break;
        case Header::kContentType: message.request.content_type.append(at, length); break;
        case Header::kForwardedFor: message.request.forwarded_for.append(at, length); break;
        case Header::kForwarded: message.request.forwarded.append(at, length); break;
        case Header::kExpect:
        case Header::kTransferEncoding:
          message.value.append(at, std::min(length, kMaxValueLength + 1 - message.value.size()));
          break;
        case Header::kOther: break;
        default:
          if (std::string* kept = head_value(message)) kept->append(at, length);
          break;
      }
      return 0;
    });
  }

  static int on_header_value_complete(llhttp_t* p) {
    return guarded(p, [](RequestParser& self) {
      Message& message = *self.message_;
      const std::string_view value = trim(message.value);
      int result = 0;
      if (message.header == Header::kExpect) {
        // The only expectation HTTP defines; anything else cannot be met.
        if (base::equals_ignoring_case(value, "100-continue")) {
          message.expect_continue = true;
        } else {
          result = refuse(message, 417);
        }
      } else if (message.header == Header::kTransferEncoding) {
        // We de-chunk but do not decompress: any other coding is unsupported.
        if (!base::equals_ignoring_case(value, "chunked")) result = refuse(message, 501);
      }
      message.header = Header::kOther;
      message.value.clear();
      return result;
    });
  }

  static int on_headers_complete(llhttp_t* p) {
    return guarded(p, [p](RequestParser& self) {
      Message& message = *self.message_;
      if (p->http_major != 1) return refuse(message, 505);
      if ((p->flags & F_CONTENT_LENGTH) != 0 && p->content_length > self.limits_.max_body_bytes) {
        return refuse(message, 413);
      }
      Request& request = message.request;
      request.method = method_from(p->method);
      trim_in_place(request.origin);
      trim_in_place(request.content_type);
      const bool has_body = (p->flags & F_CHUNKED) != 0 || p->content_length > 0;
      message.expect_continue = message.expect_continue && has_body && p->http_minor >= 1;
      if ((p->flags & F_CONTENT_LENGTH) != 0) {
        request.body.reserve(static_cast<std::size_t>(p->content_length));
      }
      if (RequestHead* head = request.head.get()) {
        head->method = method_from(p->method);
        head->version_major = p->http_major;
        head->version_minor = p->http_minor;
        head->origin = request.origin;
        for (std::string* value :
             {&head->host, &head->upgrade, &head->connection, &head->sec_websocket_key,
              &head->sec_websocket_version, &head->sec_websocket_protocol, &head->forwarded_proto,
              &head->forwarded_host}) {
          trim_in_place(*value);
        }
      }
      message.event = Event::kHeadersComplete;
      return static_cast<int>(HPE_PAUSED);
    });
  }

  static int on_body(llhttp_t* p, const char* at, std::size_t length) {
    return guarded(p, [=](RequestParser& self) {
      Message& message = *self.message_;
      if (message.request.body.size() + length > self.limits_.max_body_bytes) {
        return refuse(message, 413);
      }
      message.request.body.append(at, length);
      return 0;
    });
  }

  static int on_message_complete(llhttp_t* p) {
    return guarded(p, [p](RequestParser& self) {
      Message& message = *self.message_;
      // After an Upgrade request comes another protocol (if its handler switches,
      // Exchange::switch_protocols) or nothing: no further HTTP request either way.
      message.request.keep_alive = llhttp_should_keep_alive(p) != 0 && p->upgrade == 0;
      message.request.upgrade = p->upgrade != 0;
      message.event = Event::kRequestComplete;
      return static_cast<int>(HPE_PAUSED);
    });
  }

  static const llhttp_settings_t& settings() {
    static const llhttp_settings_t instance = [] {
      llhttp_settings_t s;
      llhttp_settings_init(&s);
      s.on_message_begin = on_message_begin;
      s.on_url = on_url;
      s.on_url_complete = on_url_complete;
      s.on_header_field = on_header_field;
      s.on_header_field_complete = on_header_field_complete;
      s.on_header_value = on_header_value;
      s.on_header_value_complete = on_header_value_complete;
      s.on_headers_complete = on_headers_complete;
      s.on_body = on_body;
      s.on_message_complete = on_message_complete;
      return s;
    }();
    return instance;
  }
};

RequestParser::RequestParser(const ConnectionLimits& limits) : limits_(limits) {}

RequestParser::~RequestParser() = default;

RequestParser::Step RequestParser::step(std::string_view data) {
  if (!message_) {
    if (data.empty()) return {Event::kNeedMore, 0};  // nothing to start a request with
    message_ = std::make_unique<Message>();
    llhttp_init(&message_->parser, HTTP_REQUEST, &Callbacks::settings());
    message_->parser.data = this;
  }
  llhttp_t* const parser = &message_->parser;
  const llhttp_errno_t error = llhttp_execute(parser, data.data(), data.size());
  if (error == HPE_OK) {
    // Only CRLFs so far (allowed between requests): nothing worth keeping.
    if (!message_->begun) message_.reset();
    return {Event::kNeedMore, data.size()};
  }

  const char* stop = llhttp_get_error_pos(parser);
  std::size_t consumed = data.size();
  if (stop != nullptr && stop >= data.data() && stop <= data.data() + data.size()) {
    consumed = static_cast<std::size_t>(stop - data.data());
  }
  if (error == HPE_PAUSED && message_ && message_->event != Event::kNeedMore) {
    llhttp_resume(parser);
    const Event event = message_->event;
    message_->event = Event::kNeedMore;
    return {event, consumed};
  }
  return {Event::kError, consumed};
}

bool RequestParser::expects_continue() const { return message_ && message_->expect_continue; }

bool RequestParser::http10() const {
  return message_ && message_->parser.http_major == 1 && message_->parser.http_minor == 0;
}

Request RequestParser::take_request() {
  Request request;
  if (message_) request = std::move(message_->request);
  message_.reset();
  return request;
}

int RequestParser::error_status() const {
  if (message_ && message_->error_status != 0) return message_->error_status;
  if (!message_) return 400;
  switch (llhttp_get_errno(&message_->parser)) {
    case HPE_INVALID_METHOD: return 501;
    case HPE_INVALID_VERSION: return 505;
    default: return 400;
  }
}

bool RequestParser::in_message() const { return message_ != nullptr && message_->begun; }

void RequestParser::reset_message() { message_.reset(); }

}  // namespace sb::http
