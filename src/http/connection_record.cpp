#include "http/connection_record.hpp"

#include "base/record_codec.hpp"

namespace sb::http {
namespace {
constexpr std::string_view kMagic = "SBhc";
constexpr std::size_t kMaxPeer = 64;        // an IPv6 address in text, with room
constexpr std::size_t kMaxOrigin = 4096;    // an Origin header's value
constexpr std::uint64_t kMaxInFlight = 64;  // well above the pipelining limit
}  // namespace

std::string encode(const ConnectionRecord& record) {
  base::RecordWriter w;
  w.head(kMagic, kConnectionRecordVersion);
  w.text(record.peer);
  w.u64(record.in_flight.size());
  for (const ConnectionRecord::InFlight& request : record.in_flight) {
    w.text(request.cors);
    w.boolean(request.head_only);
    w.boolean(request.keep_alive_header);
  }
  return w.take();
}

bool decode(std::string_view bytes, ConnectionRecord& record, std::string& error) {
  base::RecordReader r(bytes);
  if (!r.head(kMagic, kConnectionRecordVersion, "HTTP connection record",
              "an HTTP connection record", error))
    return false;
  ConnectionRecord out;
  out.peer = r.text(kMaxPeer, "the client's address");
  for (std::uint64_t n = r.u64_at_most(kMaxInFlight, "the requests in flight"); r.ok() && n > 0;
       --n) {
    ConnectionRecord::InFlight request;
    request.cors = r.text(kMaxOrigin, "a request's CORS decision");
    request.head_only = r.boolean();
    request.keep_alive_header = r.boolean();
    out.in_flight.push_back(std::move(request));
  }
  if (!r.end("HTTP connection record", error)) return false;
  record = std::move(out);
  return true;
}

}  // namespace sb::http
