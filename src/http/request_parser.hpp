// RequestParser: llhttp turned into a step-by-step event source for one connection.
//
// llhttp parses straight out of the bytes it is given (no copy), calling back as it
// goes. We keep only what a request needs (method, path, Origin, Content-Type, body;
// for the few paths of ConnectionLimits::head_paths also a RequestHead with Host,
// Upgrade, Connection and the Sec-WebSocket-* values) and enforce the size limits
// while the bytes stream by, so an oversized request is refused before it is
// buffered.
//
// Instead of calling the connection from inside llhttp's callbacks, the parser
// pauses llhttp at each event that matters (message begin, headers complete,
// message complete) and returns it from step(). The connection then acts (arms a
// timer, dispatches a request to a handler that may answer at once) with no llhttp
// frame on the stack, and calls step() again with the rest of the bytes.
//
// Memory: between requests the parser holds one null pointer. The per-message
// state, llhttp's own (~100 bytes) and the request strings, is allocated at the
// first byte of a request and freed when the request is taken or the parser is
// reset; the next request starts on a fresh llhttp_init.
#pragma once

#include <llhttp.h>

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string_view>

#include "http/exchange.hpp"
#include "http/limits.hpp"

namespace sb::http {

class RequestParser {
 public:
  enum class Event : std::uint8_t {
    kNeedMore,         // every byte was consumed; feed more
    kMessageBegin,     // the first byte of a request was seen
    kHeadersComplete,  // the head is complete and within limits
    kRequestComplete,  // a whole request is ready: take_request()
    kError,            // the request is refused: answer error_status(), then close
  };
  struct Step {
    Event event;
    std::size_t consumed;  // bytes of the input used up to this event
  };

  explicit RequestParser(const ConnectionLimits& limits);
  RequestParser(const RequestParser&) = delete;  // llhttp keeps a pointer to us
  RequestParser& operator=(const RequestParser&) = delete;
  ~RequestParser();

  // Parses from the start of `data` up to the next event.
  Step step(std::string_view data);

  // Valid after kHeadersComplete: the client sent "Expect: 100-continue" and waits
  // for an interim response before sending its body.
  bool expects_continue() const;
  // Valid after kRequestComplete, before the next step(): the request's version.
  bool http10() const;
  // After kRequestComplete: moves the request out and frees the per-message state.
  Request take_request();
  // After kError: the status code to answer with (400, 413, 414, 417, 431, 501, 505).
  int error_status() const;

  // True between the first byte of a request and its completion.
  bool in_message() const;
  // Frees the per-message state (after an error, a timeout or a close).
  void reset_message();

  const ConnectionLimits& limits() const { return limits_; }

 private:
  struct Message;
  struct Callbacks;

  std::unique_ptr<Message> message_;  // with llhttp's state; null between requests
  const ConnectionLimits& limits_;
};

}  // namespace sb::http
