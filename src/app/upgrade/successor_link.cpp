// Passing on what stays in an old worker after its sessions moved; see
// successor_link.hpp.
#include "app/upgrade/successor_link.hpp"

#include "app/handover/handover_wire.hpp"
#include "app/log/log.hpp"
#include "app/upgrade/upgrade_wire.hpp"
#include "http/connection_record.hpp"

namespace sb::app {
namespace {
constexpr int kSendTimeoutMs = 1000;
}  // namespace

SuccessorLink::~SuccessorLink() {
  for (HttpSocket* socket : released_) socket->end_handover();
}

bool SuccessorLink::send(int fd, const std::string& bytes) {
  if (!channel_ || fd < 0) return false;
  std::string error;
  if (channel_->send(static_cast<std::uint8_t>(UpgradeKind::kForward), bytes, {fd}, kSendTimeoutMs,
                     error)) {
    ++passed_;
    return true;
  }
  SB_LOG_WARN("upgrade: cannot pass connections on to the new daemon any more: %s", error.c_str());
  channel_.reset();
  return false;
}

bool SuccessorLink::route(std::string_view, http::Request& request, http::Exchange&) {
  HttpSocket* socket = sockets_.dispatching;
  if (socket == nullptr || socket->tls() || socket->tls_relayed() || !socket->can_hand_over()) {
    return false;
  }
  std::optional<std::string> bytes = serialize_request(request, socket->current_request_http10());
  if (!bytes) return false;
  ForwardMessage forward;
  forward.request = std::move(*bytes);
  forward.peer = socket->connection_peer();
  if (!send(socket->socket_fd(), encode(forward))) return false;
  // The successor holds its own descriptor: ours closes without a word, once
  // this request's dispatch is over (the next pass_idle()).
  socket->begin_handover();
  released_.push_back(socket);
  return true;
}

bool SuccessorLink::pass_on(net::TcpStream& stream, std::string_view request, std::string_view peer,
                            bool tls_relayed) {
  ForwardMessage forward;
  forward.request = std::string(request);
  forward.peer = std::string(peer);
  forward.tls_relayed = tls_relayed;
  if (!send(stream.fd(), encode(forward))) return false;
  stream.close();  // our descriptor only
  return true;
}

std::size_t SuccessorLink::pass_idle(HttpSocketList& sockets) {
  for (HttpSocket* socket : released_) socket->end_handover();
  released_.clear();
  std::size_t left = 0;
  for (HttpSocket* s = sockets.first(); s != nullptr;) {
    HttpSocket* next = s->next;
    if (!channel_ || !s->movable() || s->requests_in_flight() > 0) {
      ++left;
    } else {
      ForwardMessage forward;
      forward.connection = http::encode(s->record());
      if (send(s->socket_fd(), encode(forward))) {
        s->let_go();
      } else {
        ++left;
      }
    }
    s = next;
  }
  return left;
}

}  // namespace sb::app
