// The PROXY protocol (HAProxy's, versions 1 and 2: haproxy.org/download/2.8/doc/
// proxy-protocol.txt): a header a front proxy sends first on a connection, naming
// the client it accepted the connection from, so the server behind it sees the
// client's address instead of the proxy's.
//
// ProxyHeaderReader reads such a header off the start of an accepted connection
// (`proxy_protocol = true` on the listener), in pieces as they arrive. It holds
// at most kMaxHeaderBytes and decides as early as it can: the first bytes already
// tell v1 ("PROXY ") from v2 (its 12-byte signature) from anything else, which is
// refused, so a client that speaks HTTP at a PROXY listener is turned away at once.
// A v1 line longer than the 107 bytes the specification allows, a v2 header
// longer than our bound, an unknown version or command, an address that does not
// parse: all refused, and the caller closes the connection.
//
// A LOCAL command (v2: the proxy's own health check) and v1 "UNKNOWN" carry no
// client: the connection keeps the socket's own peer address. Addresses of other
// families than TCP over IPv4/IPv6 (UNIX sockets, UNSPEC) are treated the same.
// v2 TLVs are skipped.
//
// encode_proxy_header() writes one, for `upstream_proxy_protocol`: the XMPP server
// behind Switchboard then learns the browser's address.
#pragma once

#include <sys/socket.h>

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace sb::net {

struct ProxyHeader {
  bool local = true;      // no client named: keep the socket's address
  std::string source_ip;  // the client, as text (IPv4-mapped IPv6 shown as IPv4)
  std::uint16_t source_port = 0;
};

class ProxyHeaderReader {
 public:
  static constexpr std::size_t kMaxV1Bytes = 107;  // the specification's bound, CRLF included
  static constexpr std::size_t kMaxHeaderBytes = 16 + 2048;  // v2: TLVs beyond this are refused

  enum class Status { kNeedMore, kDone, kInvalid };

  // Feeds the next bytes of the connection. kDone: the header is complete and
  // `consumed` of these bytes were part of it (the rest is the protocol behind).
  // kInvalid: the connection must be closed; error() says why.
  Status feed(std::string_view bytes, std::size_t& consumed);
  const ProxyHeader& header() const { return header_; }
  const std::string& error() const { return error_; }

 private:
  Status fail(std::string why);
  Status parse_v1(std::size_t line_end);
  Status parse_v2();

  std::string buffer_;  // the header's bytes so far
  ProxyHeader header_;
  std::string error_;
};

// A header naming `client_ip`:`client_port` as the source and `destination` (the
// address the source connected to) as the destination. `version` 1 (text) or 2
// (binary). An IPv4 address meeting an IPv6 one is written IPv4-mapped. A client
// address that does not parse gives "UNKNOWN" (v1) or LOCAL (v2): the server then
// uses the connection's own address.
std::string encode_proxy_header(int version, std::string_view client_ip, std::uint16_t client_port,
                                const sockaddr* destination);

// Text form of a socket address's IP (IPv4-mapped IPv6 shown as IPv4); empty if
// it is neither IPv4 nor IPv6.
std::string ip_text(const sockaddr* address);

}  // namespace sb::net
