// ConnectionRecord: an HTTP connection as plain data, for moving it to another
// process (an upgrade in place), and its versioned byte form.
//
// A connection moves only between requests' bytes (Connection::movable()): what
// is left of it then is the client's address and the requests it still owes an
// answer to, in order (held long polls, early BOSH requests). Each of those needs
// only what shapes its answer: its CORS decision (as text, since the next process
// may list other origins), whether it was HEAD, and whether an HTTP/1.0 client
// asked for keep-alive. The socket itself travels beside the record (SCM_RIGHTS).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace sb::http {

// 1: the first format (this build).
inline constexpr std::uint32_t kConnectionRecordVersion = 1;

struct ConnectionRecord {
  struct InFlight {
    std::string cors;  // CorsPolicy::decision_text: "", "*" or the allowed origin
    bool head_only = false;
    bool keep_alive_header = false;
  };
  std::string peer;                 // the client's address (a PROXY header's, if any)
  std::vector<InFlight> in_flight;  // oldest first
};

std::string encode(const ConnectionRecord& record);
// Reads a record written by this build or an earlier one; false, with the reason
// in `error`, for a newer version or bytes that are not a whole, sane record.
bool decode(std::string_view bytes, ConnectionRecord& record, std::string& error);

}  // namespace sb::http
