// UpstreamLink, moving to another process: whether it can, its record, giving up
// its socket quietly, and a link rebuilt on a socket that moved here (see
// link_record.hpp for what moves and why a link with TLS does not).
#include <fcntl.h>
#include <unistd.h>

#include "net/loop_context.hpp"
#include "xmpp/upstream_link.hpp"

namespace sb::xmpp {

UpstreamLink::UpstreamLink(Adopted, UpstreamConnector& connector,
                           const engine::UpstreamTarget& target, engine::UpstreamEvents& events,
                           engine::StanzaFraming framing)
    : base::TimerNode(&UpstreamLink::on_timer),
      connector_(connector),
      events_(&events),
      framer_(connector.settings().max_stanza_bytes),
      state_(State::kOpen),
      framing_(framing),
      same_host_(is_loopback_host(target.host)),
      opening_(false) {
  connector_.attach(*this);
}

bool UpstreamLink::movable() const {
  return state_ == State::kOpen && stream_ != nullptr && !stream_->closing() && !negotiation_ &&
         tls_state_ == Tls::kPlain && !opening_ && !pending_ && !backlog_full_ &&
         stream_->queued_bytes() == 0 && namespaces_ && framer_.movable();
}

LinkRecord UpstreamLink::record() const {
  LinkRecord record;
  record.framing = framing_;
  record.namespaces = namespaces();
  record.stream_name = std::string(framer_.stream_name());
  record.unfinished = std::string(framer_.unfinished());
  return record;
}

int UpstreamLink::socket_fd() const { return stream_ != nullptr ? stream_->fd() : -1; }

int UpstreamLink::duplicate_socket() const {
  const int fd = socket_fd();
  if (fd < 0) {
    errno = EBADF;
    return -1;
  }
  return ::fcntl(fd, F_DUPFD_CLOEXEC, 0);
}

void UpstreamLink::let_go() {
  events_ = nullptr;
  owns_itself_ = true;
  state_ = State::kDone;
  base::TimerWheel::disarm(timer());
  if (stream_ == nullptr) {
    delete this;
    return;
  }
  // Closing this descriptor sends nothing: the duplicate keeps the connection.
  stream_->close();  // on_closed() frees the link
}

std::unique_ptr<UpstreamLink> UpstreamLink::adopt(UpstreamConnector& connector,
                                                  const engine::UpstreamTarget& target,
                                                  engine::UpstreamEvents& events,
                                                  LinkRecord&& record, int fd, std::string& error) {
  net::TcpStream* stream = net::TcpStream::create(connector.loop(), nullptr);
  const int rc = uv_tcp_open(stream->handle(), fd);
  if (rc != 0) {
    error = std::string("cannot take the server's socket: ") + uv_strerror(rc);
    ::close(fd);
    stream->close();
    return nullptr;
  }
  uv_tcp_nodelay(stream->handle(), 1);
  std::unique_ptr<UpstreamLink> link(
      new UpstreamLink(Adopted{}, connector, target, events, record.framing));
  stream->set_handler(link.get());
  link->stream_ = stream;
  link->namespaces_ = connector.share_namespaces(std::move(record.namespaces));
  // The stanza the server had begun: fed again, it must stay unfinished (events
  // are held back until then, so a damaged record cannot deliver anything).
  link->events_ = nullptr;
  link->framer_.resume_open(record.stream_name);
  link->framer_.feed(record.unfinished, *link);
  if (!link->framer_.movable() || link->framer_.unfinished().size() != record.unfinished.size()) {
    error = "the link record's unfinished stanza is not the start of one";
    return nullptr;  // the destructor closes the socket
  }
  link->events_ = &events;
  if (stream->start_reading() != 0) {
    error = "cannot read the server's socket";
    return nullptr;
  }
  return link;
}

}  // namespace sb::xmpp
