// ResponseCache: the responses a BOSH session keeps for a client that may ask
// for them again.
//
// A client whose connection broke resends the rid it lost (XEP-0124 §14.3) and
// must get the very bytes it missed; with acknowledgements (§9) every response
// the client has not acknowledged is kept, and one it plainly missed is reported.
// So a session keeps recent responses in rid order, oldest first, with their
// total size (bounded by max_session_queue_bytes) and when each was sent (the
// `time` of a report). Without acks the client has at most `requests` requests
// out, so the last `requests` responses are all it can ask for: two with the
// usual hold=1, which is what the inline capacity holds.
//
// Bodies are shared (http::SharedBody): the response sent and the copy kept are
// one string, and the plain empty <body/> that most idle sessions answer with is
// one string for all of them (share).
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

#include "base/small_vector.hpp"
#include "http/exchange.hpp"

namespace sb::bosh {

class ResponseCache {
 public:
  struct Entry {
    std::uint64_t rid;
    http::SharedBody body;
    std::uint64_t sent_ms;  // for `time` in a report (§9.3)
  };

  // Keeps `body` as the response to `rid`, sent at `now_ms`, and returns the
  // shared copy to send. With `limit` set (not 0) and that many kept already,
  // the oldest goes first.
  http::SharedBody add(std::uint64_t rid, std::string body, std::uint64_t now_ms,
                       std::size_t limit);
  // The kept response to `rid`, or null.
  const Entry* find(std::uint64_t rid) const;
  // Forgets every response up to and including `rid`: the client has them.
  void drop_through(std::uint64_t rid);

  std::size_t size() const { return entries_.size(); }
  const Entry* begin() const { return entries_.begin(); }
  const Entry* end() const { return entries_.end(); }
  // The bytes of the kept bodies.
  std::uint32_t bytes() const { return bytes_; }

  // A body as a shared string, the common empty <body/> as one copy for all.
  static http::SharedBody share(std::string body);

 private:
  void drop_oldest();

  base::SmallVector<Entry, 2> entries_;
  // Last, so that the Session can place its small fields in the padding behind
  // it (see Session::cache_).
  std::uint32_t bytes_ = 0;
};

}  // namespace sb::bosh
