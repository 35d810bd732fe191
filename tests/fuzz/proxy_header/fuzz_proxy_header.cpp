// fuzz_proxy_header: net::ProxyHeaderReader on hostile connection starts (PROXY
// protocol v1 text and v2 binary, net/proxy_protocol.hpp).
//
// The bytes are read whole, one byte per feed(), and cut at points chosen by the
// input; the outcome must not depend on the cuts: the same status, the same
// address, the same number of header bytes. A reader that is done must have
// taken no more than the specification's largest header (107 bytes for v1, our
// bound for v2) and must name an address that parses back as IPv4 or IPv6, or
// none (LOCAL/UNKNOWN). A reader must decide (done or refused) by
// kMaxHeaderBytes at the latest: never wait for more without bound. A header
// we write for any address the reader produced must read back to the same one.
//
// Input: byte 0 = seed of the cut points, the rest = the connection's first bytes.
#include <arpa/inet.h>
#include <netinet/in.h>

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "net/proxy_protocol.hpp"
#include "support/check.hpp"

namespace {

using sb::net::ProxyHeaderReader;
using Status = ProxyHeaderReader::Status;

struct Outcome {
  Status status = Status::kNeedMore;
  std::size_t header_bytes = 0;  // of the whole input, when done
  bool local = true;
  std::string ip;
  std::uint16_t port = 0;
};

// Feeds `input` cut before each offset of `cuts` (increasing), stopping at a decision.
Outcome run(std::string_view input, const std::size_t* cuts, std::size_t n_cuts) {
  ProxyHeaderReader reader;
  Outcome out;
  std::size_t at = 0;
  for (std::size_t i = 0; i <= n_cuts && at < input.size(); ++i) {
    const std::size_t end = i < n_cuts ? std::min(cuts[i], input.size()) : input.size();
    if (end <= at) continue;
    std::size_t used = 0;
    out.status = reader.feed(input.substr(at, end - at), used);
    if (out.status == Status::kDone) {
      FUZZ_CHECK(used <= end - at, "consumed more than fed");
      out.header_bytes = at + used;
      out.local = reader.header().local;
      out.ip = reader.header().source_ip;
      out.port = reader.header().source_port;
      return out;
    }
    FUZZ_CHECK(used == 0, "consumed bytes without finishing");
    if (out.status == Status::kInvalid) {
      FUZZ_CHECK(!reader.error().empty(), "refused without a reason");
      return out;
    }
    at = end;
  }
  return out;
}

bool same(const Outcome& a, const Outcome& b) {
  return a.status == b.status && a.header_bytes == b.header_bytes && a.local == b.local &&
         a.ip == b.ip && a.port == b.port;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < 1) return 0;
  std::uint32_t seed = data[0];
  const std::string_view input(reinterpret_cast<const char*>(data + 1), size - 1);

  const Outcome whole = run(input, nullptr, 0);
  if (whole.status == Status::kNeedMore) {
    FUZZ_CHECK(input.size() < ProxyHeaderReader::kMaxHeaderBytes, "undecided past the bound");
  }
  if (whole.status == Status::kDone) {
    FUZZ_CHECK(whole.header_bytes >= 8 && whole.header_bytes <= ProxyHeaderReader::kMaxHeaderBytes,
               "header size out of bounds");
    if (input[0] == 'P') {
      FUZZ_CHECK(whole.header_bytes <= ProxyHeaderReader::kMaxV1Bytes, "v1 line too long");
    }
    if (!whole.local) {
      unsigned char buffer[16];
      FUZZ_CHECK(inet_pton(AF_INET, whole.ip.c_str(), buffer) == 1 ||
                     inet_pton(AF_INET6, whole.ip.c_str(), buffer) == 1,
                 whole.ip);
      // What we would write for this client reads back the same.
      sockaddr_in server{};
      server.sin_family = AF_INET;
      server.sin_port = htons(5222);
      server.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
      for (int version : {1, 2}) {
        const std::string again = sb::net::encode_proxy_header(
            version, whole.ip, whole.port, reinterpret_cast<const sockaddr*>(&server));
        const Outcome back = run(again, nullptr, 0);
        FUZZ_CHECK(back.status == Status::kDone && !back.local && back.ip == whole.ip &&
                       back.port == whole.port && back.header_bytes == again.size(),
                   again);
      }
    }
  }

  if (input.size() <= 512) {  // one byte per feed
    std::size_t cuts[512];
    for (std::size_t i = 0; i < input.size(); ++i) cuts[i] = i + 1;
    FUZZ_CHECK(same(run(input, cuts, input.size()), whole), "byte-by-byte differs");
  }
  std::size_t cuts[6];
  std::size_t last = 0;
  for (auto& cut : cuts) {
    seed = seed * 1103515245u + 12345u;
    last += 1 + (seed >> 16) % 40;
    cut = last;
  }
  FUZZ_CHECK(same(run(input, cuts, 6), whole), "cut feeding differs");
  return 0;
}
