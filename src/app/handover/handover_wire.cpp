// Frames and request bytes of a hand-over; see handover_wire.hpp.
#include "app/handover/handover_wire.hpp"

#include <algorithm>

#include "base/little_endian.hpp"

namespace sb::app {
namespace {

std::optional<std::string_view> method_name(http::Method method) {
  switch (method) {
    case http::Method::kGet: return "GET";
    case http::Method::kHead: return "HEAD";
    case http::Method::kPost: return "POST";
    case http::Method::kOptions: return "OPTIONS";
    case http::Method::kOther: break;
  }
  return std::nullopt;
}

}  // namespace

std::string encode_frame(std::uint32_t target, std::string_view request, std::string_view peer) {
  peer = peer.substr(0, 255);
  std::string frame;
  frame.reserve(kFrameHeaderBytes + 1 + peer.size() + request.size());
  base::put_u32_le(frame, kFrameMagic);
  base::put_u32_le(frame, target);
  base::put_u32_le(frame, static_cast<std::uint32_t>(1 + peer.size() + request.size()));
  frame.push_back(static_cast<char>(peer.size()));
  frame.append(peer).append(request);
  return frame;
}

std::string encode_control(std::string_view kind, std::string_view body) {
  std::string payload(kind);
  payload.push_back('\n');
  payload.append(body);
  return encode_frame(kControlTarget, payload);
}

int write_control(uv_stream_t* pipe, std::string_view kind, std::string_view body) {
  struct Message {
    uv_write_t req{};
    std::string frame;
  };
  auto* message = new Message;
  message->frame = encode_control(kind, body);
  message->req.data = message;
  uv_buf_t buf =
      uv_buf_init(message->frame.data(), static_cast<unsigned int>(message->frame.size()));
  const int rc = uv_write(&message->req, pipe, &buf, 1,
                          [](uv_write_t* req, int) { delete static_cast<Message*>(req->data); });
  if (rc != 0) delete message;
  return rc;
}

ControlMessage parse_control(std::string_view payload) {
  const std::size_t newline = payload.find('\n');
  if (newline == std::string_view::npos) return {std::string(payload), {}};
  return {std::string(payload.substr(0, newline)), std::string(payload.substr(newline + 1))};
}

void FrameReader::feed(std::string_view bytes, std::vector<HandoverFrame>& out) {
  partial_.append(bytes);
  std::size_t offset = 0;
  while (partial_.size() - offset >= kFrameHeaderBytes) {
    const std::string_view rest = std::string_view(partial_).substr(offset);
    const std::uint32_t length = base::get_u32_le(rest.substr(8));
    const bool sane =
        base::get_u32_le(rest) == kFrameMagic && length >= 1 && length <= kMaxFramePayload;
    if (sane && rest.size() < kFrameHeaderBytes + length) break;
    const std::string_view payload =
        sane ? rest.substr(kFrameHeaderBytes, length) : std::string_view();
    const std::size_t peer_length = sane ? static_cast<unsigned char>(payload[0]) : 0;
    if (!sane || 1 + peer_length > payload.size()) {
      // Lost our place: skip to the next marker (or keep the last three bytes,
      // which may be the start of one).
      ++resyncs_;
      const std::string_view marker("SBf1", 4);
      const std::size_t next = partial_.find(marker.data(), offset + 1, marker.size());
      offset = next == std::string::npos ? std::max(offset + 1, partial_.size() - 3) : next;
      continue;
    }
    out.push_back({base::get_u32_le(rest.substr(4)), std::string(payload.substr(1 + peer_length)),
                   std::string(payload.substr(1, peer_length)), consumed_ + offset});
    offset += kFrameHeaderBytes + length;
  }
  partial_.erase(0, offset);
  consumed_ += offset;
}

std::optional<std::string> serialize_request(const http::Request& request, bool http10) {
  const auto method = method_name(request.method);
  if (!method) return std::nullopt;
  std::string out;
  out.reserve(160 + request.path.size() + request.origin.size() + request.body.size());
  out.append(*method).append(" ").append(request.path.empty() ? "/" : request.path);
  out.append(http10 ? " HTTP/1.0\r\n" : " HTTP/1.1\r\n");
  // The receiving side ignores Host, but an HTTP/1.1 request without one is invalid.
  out.append("Host: switchboard\r\n");
  if (!request.origin.empty()) out.append("Origin: ").append(request.origin).append("\r\n");
  if (!request.content_type.empty()) {
    out.append("Content-Type: ").append(request.content_type).append("\r\n");
  }
  if (!request.forwarded_for.empty()) {
    out.append("X-Forwarded-For: ").append(request.forwarded_for).append("\r\n");
  }
  if (!request.forwarded.empty())
    out.append("Forwarded: ").append(request.forwarded).append("\r\n");
  if (!request.body.empty() || request.method == http::Method::kPost) {
    out.append("Content-Length: ").append(std::to_string(request.body.size())).append("\r\n");
  }
  // Each version's default is the other way round.
  if (!request.keep_alive && !http10) out.append("Connection: close\r\n");
  if (request.keep_alive && http10) out.append("Connection: keep-alive\r\n");
  out.append("\r\n").append(request.body);
  return out;
}

}  // namespace sb::app
