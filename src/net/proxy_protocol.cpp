// PROXY protocol v1 and v2, reading and writing; see proxy_protocol.hpp.
#include "net/proxy_protocol.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>

#include <array>
#include <charconv>
#include <cstring>

namespace sb::net {
namespace {

constexpr std::string_view kV1Prefix = "PROXY ";
constexpr std::array<char, 12> kV2Signature = {'\r', '\n', '\r', '\n', '\0', '\r',
                                               '\n', 'Q',  'U',  'I',  'T',  '\n'};
constexpr std::string_view kV2SignatureView(kV2Signature.data(), kV2Signature.size());

bool is_mapped_v4(const in6_addr& a) { return IN6_IS_ADDR_V4MAPPED(&a); }

std::string text_v4(const void* bytes) {
  char out[INET_ADDRSTRLEN] = {};
  inet_ntop(AF_INET, bytes, out, sizeof out);
  return out;
}

std::string text_v6(const in6_addr& a) {
  if (is_mapped_v4(a)) return text_v4(&a.s6_addr[12]);
  char out[INET6_ADDRSTRLEN] = {};
  inet_ntop(AF_INET6, &a, out, sizeof out);
  return out;
}

std::uint16_t read_u16(const std::string& b, std::size_t at) {
  return static_cast<std::uint16_t>((static_cast<unsigned char>(b[at]) << 8) |
                                    static_cast<unsigned char>(b[at + 1]));
}

// A decimal port as v1 writes it: 1 to 5 digits, at most 65535.
bool parse_port(std::string_view text, std::uint16_t& port) {
  unsigned value = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (text.empty() || text.size() > 5 || ec != std::errc() || end != text.data() + text.size() ||
      value > 65535) {
    return false;
  }
  port = static_cast<std::uint16_t>(value);
  return true;
}

// Splits "a b c" on single spaces, as v1 requires.
std::size_t split_spaces(std::string_view line, std::string_view* out, std::size_t max) {
  std::size_t count = 0;
  while (count < max) {
    const std::size_t space = line.find(' ');
    out[count++] = line.substr(0, space);
    if (space == std::string_view::npos) return count;
    line.remove_prefix(space + 1);
  }
  return count + 1;  // more fields than allowed
}

}  // namespace

ProxyHeaderReader::Status ProxyHeaderReader::fail(std::string why) {
  error_ = std::move(why);
  return Status::kInvalid;
}

ProxyHeaderReader::Status ProxyHeaderReader::feed(std::string_view bytes, std::size_t& consumed) {
  consumed = 0;
  const std::size_t before = buffer_.size();
  // Never more than the largest header could need.
  const std::size_t room = kMaxHeaderBytes - before;
  buffer_.append(bytes.substr(0, room));
  const std::string_view seen(buffer_);

  const std::size_t v1_check = std::min(seen.size(), kV1Prefix.size());
  const std::size_t v2_check = std::min(seen.size(), kV2Signature.size());
  const bool maybe_v1 = seen.substr(0, v1_check) == kV1Prefix.substr(0, v1_check);
  const bool maybe_v2 = seen.substr(0, v2_check) == kV2SignatureView.substr(0, v2_check);
  if (!maybe_v1 && !maybe_v2) return fail("not a PROXY protocol header");

  Status status = Status::kNeedMore;
  std::size_t header_bytes = 0;
  if (maybe_v1 && seen.size() >= kV1Prefix.size()) {
    const std::size_t end = seen.substr(0, kMaxV1Bytes).find("\r\n");
    if (end == std::string_view::npos) {
      if (seen.size() >= kMaxV1Bytes) return fail("PROXY v1 line longer than 107 bytes");
      return Status::kNeedMore;
    }
    status = parse_v1(end);
    header_bytes = end + 2;
  } else if (maybe_v2 && seen.size() >= 16) {
    const std::size_t length = 16 + std::size_t{read_u16(buffer_, 14)};
    if (length > kMaxHeaderBytes) return fail("PROXY v2 header longer than we accept");
    if (seen.size() < length) return Status::kNeedMore;
    status = parse_v2();
    header_bytes = length;
  }
  if (status == Status::kDone) {
    consumed = header_bytes - before;
    buffer_.clear();
    buffer_.shrink_to_fit();
  }
  return status;
}

ProxyHeaderReader::Status ProxyHeaderReader::parse_v1(std::size_t line_end) {
  const std::string_view line = std::string_view(buffer_).substr(0, line_end);
  std::string_view fields[6];
  const std::size_t count = split_spaces(line, fields, 6);
  if (count >= 2 && fields[1] == "UNKNOWN") {  // the rest of the line is to be ignored
    header_ = ProxyHeader{};
    return Status::kDone;
  }
  if (count != 6) return fail("PROXY v1 line without its six fields");
  const int family = fields[1] == "TCP4" ? AF_INET : fields[1] == "TCP6" ? AF_INET6 : 0;
  if (family == 0) return fail("PROXY v1 protocol is not TCP4, TCP6 or UNKNOWN");
  unsigned char address[16];
  unsigned char destination[16];
  const std::string source_text(fields[2]);
  const std::string destination_text(fields[3]);
  std::uint16_t source_port = 0;
  std::uint16_t destination_port = 0;
  if (inet_pton(family, source_text.c_str(), address) != 1 ||
      inet_pton(family, destination_text.c_str(), destination) != 1) {
    return fail("PROXY v1 address does not parse");
  }
  if (!parse_port(fields[4], source_port) || !parse_port(fields[5], destination_port)) {
    return fail("PROXY v1 port does not parse");
  }
  header_.local = false;
  if (family == AF_INET) {
    header_.source_ip = text_v4(address);
  } else {
    in6_addr a;
    std::memcpy(&a, address, sizeof a);
    header_.source_ip = text_v6(a);
  }
  header_.source_port = source_port;
  return Status::kDone;
}

ProxyHeaderReader::Status ProxyHeaderReader::parse_v2() {
  const auto byte = [this](std::size_t at) { return static_cast<unsigned char>(buffer_[at]); };
  const unsigned version = byte(12) >> 4;
  const unsigned command = byte(12) & 0x0f;
  if (version != 2) return fail("PROXY v2 header with an unknown version");
  if (command > 1) return fail("PROXY v2 header with an unknown command");
  const unsigned family = byte(13) >> 4;
  const unsigned transport = byte(13) & 0x0f;
  const std::size_t length = read_u16(buffer_, 14);
  header_ = ProxyHeader{};
  if (command == 0) return Status::kDone;  // LOCAL: the proxy speaks for itself
  if (transport > 2) return fail("PROXY v2 header with an unknown transport");
  const unsigned char* body = reinterpret_cast<const unsigned char*>(buffer_.data()) + 16;
  if (family == 1) {  // AF_INET: source, destination, ports
    if (length < 12) return fail("PROXY v2 IPv4 addresses cut short");
    header_.local = false;
    header_.source_ip = text_v4(body);
    header_.source_port = static_cast<std::uint16_t>((body[8] << 8) | body[9]);
  } else if (family == 2) {
    if (length < 36) return fail("PROXY v2 IPv6 addresses cut short");
    in6_addr a;
    std::memcpy(&a, body, sizeof a);
    header_.local = false;
    header_.source_ip = text_v6(a);
    header_.source_port = static_cast<std::uint16_t>((body[32] << 8) | body[33]);
  } else if (family > 3) {
    return fail("PROXY v2 header with an unknown address family");
  }
  // UNSPEC and AF_UNIX name no IP client: the socket's own address stays.
  return Status::kDone;
}

std::string ip_text(const sockaddr* address) {
  if (address == nullptr) return {};
  if (address->sa_family == AF_INET) {
    return text_v4(&reinterpret_cast<const sockaddr_in*>(address)->sin_addr);
  }
  if (address->sa_family == AF_INET6) {
    return text_v6(reinterpret_cast<const sockaddr_in6*>(address)->sin6_addr);
  }
  return {};
}

std::string encode_proxy_header(int version, std::string_view client_ip, std::uint16_t client_port,
                                const sockaddr* destination) {
  // Both addresses as 16 bytes, IPv4 ones mapped; `v4` says whether both are IPv4.
  in6_addr source{};
  in6_addr target{};
  bool source_v4 = false;
  bool target_v4 = false;
  const std::string client(client_ip);
  in_addr v4{};
  bool known = true;
  if (inet_pton(AF_INET, client.c_str(), &v4) == 1) {
    source_v4 = true;
    source.s6_addr[10] = source.s6_addr[11] = 0xff;
    std::memcpy(&source.s6_addr[12], &v4, 4);
  } else if (inet_pton(AF_INET6, client.c_str(), &source) != 1) {
    known = false;
  }
  std::uint16_t target_port = 0;
  if (destination != nullptr && destination->sa_family == AF_INET) {
    const auto* in = reinterpret_cast<const sockaddr_in*>(destination);
    target_v4 = true;
    target.s6_addr[10] = target.s6_addr[11] = 0xff;
    std::memcpy(&target.s6_addr[12], &in->sin_addr, 4);
    target_port = ntohs(in->sin_port);
  } else if (destination != nullptr && destination->sa_family == AF_INET6) {
    const auto* in6 = reinterpret_cast<const sockaddr_in6*>(destination);
    target = in6->sin6_addr;
    target_v4 = is_mapped_v4(target);
    target_port = ntohs(in6->sin6_port);
  } else {
    known = false;
  }
  if (is_mapped_v4(source)) source_v4 = true;
  const bool both_v4 = source_v4 && target_v4;

  if (version == 1) {
    if (!known) return "PROXY UNKNOWN\r\n";
    auto text = [both_v4](const in6_addr& a) {
      if (both_v4) return text_v4(&a.s6_addr[12]);
      char out[INET6_ADDRSTRLEN] = {};
      inet_ntop(AF_INET6, &a, out, sizeof out);
      return std::string(out);
    };
    return "PROXY " + std::string(both_v4 ? "TCP4 " : "TCP6 ") + text(source) + " " + text(target) +
           " " + std::to_string(client_port) + " " + std::to_string(target_port) + "\r\n";
  }
  std::string out(kV2SignatureView);
  const auto put_u16 = [&out](std::uint16_t v) {
    out.push_back(static_cast<char>(v >> 8));
    out.push_back(static_cast<char>(v & 0xff));
  };
  if (!known) {
    out.push_back('\x20');  // version 2, LOCAL
    out.push_back('\x00');  // UNSPEC
    put_u16(0);
    return out;
  }
  out.push_back('\x21');                     // version 2, PROXY
  out.push_back(both_v4 ? '\x11' : '\x21');  // TCP over IPv4 / IPv6
  put_u16(both_v4 ? 12 : 36);
  const auto put_address = [&](const in6_addr& a) {
    const char* bytes = reinterpret_cast<const char*>(a.s6_addr);
    if (both_v4) {
      out.append(bytes + 12, 4);
    } else {
      out.append(bytes, 16);
    }
  };
  put_address(source);
  put_address(target);
  put_u16(client_port);
  put_u16(target_port);
  return out;
}

}  // namespace sb::net
