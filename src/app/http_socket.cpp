#include "app/http_socket.hpp"

namespace sb::app {
namespace {
// How long a closing connection may take to flush its last response.
constexpr std::uint64_t kLingerMs = 5000;
}  // namespace

void HttpSocket::adopt(net::TcpStream& stream, Shared& shared) {
  new HttpSocket(stream, shared);  // owns itself until on_closed()
  if (stream.start_reading() != 0) stream.close();
}

HttpSocket::HttpSocket(net::TcpStream& stream, Shared& shared)
    : stream_(stream), shared_(shared), linger_(&HttpSocket::on_linger, this) {
  stream_.set_handler(this);
  connection_ = std::make_unique<http::Connection>(static_cast<http::Transport&>(*this), shared.handler, shared.limits,
                                                   shared.cors, shared.wheel, stream.peer_ip());
  shared_.list.insert(*this);
}

HttpSocket::~HttpSocket() { shared_.list.remove(*this); }

void HttpSocket::close_now() { stream_.close(); }

void HttpSocket::on_read(net::TcpStream&, std::string_view bytes) { connection_->feed(bytes); }

void HttpSocket::on_read_end(net::TcpStream&, int) {
  connection_->peer_closed();
  stream_.close();
}

void HttpSocket::on_write_error(net::TcpStream&, int) {
  connection_->peer_closed();
  stream_.close();
}

void HttpSocket::on_drained(net::TcpStream&) {
  if (close_when_drained_) stream_.close();
}

void HttpSocket::on_closed(net::TcpStream&) { delete this; }

void HttpSocket::write(std::string head, std::shared_ptr<const std::string> body) {
  if (body) {
    stream_.write(std::move(head), std::move(body));
  } else {
    stream_.write(std::move(head));
  }
}

void HttpSocket::close() {
  // Flush what is queued first; a client that never reads gets kLingerMs.
  if (stream_.queued_bytes() == 0) {
    stream_.close();
    return;
  }
  close_when_drained_ = true;
  shared_.wheel.arm(linger_, kLingerMs);
}

void HttpSocket::pause_reading() { stream_.stop_reading(); }
void HttpSocket::resume_reading() {
  if (!stream_.closing()) stream_.start_reading();
}
std::size_t HttpSocket::queued_bytes() const { return stream_.queued_bytes(); }

void HttpSocket::on_linger(net::TimerNode& node) { static_cast<HttpSocket*>(node.owner)->stream_.close(); }

void HttpSocketList::insert(HttpSocket& socket) {
  socket.prev = nullptr;
  socket.next = head_;
  if (head_ != nullptr) head_->prev = &socket;
  head_ = &socket;
  ++size_;
}

void HttpSocketList::remove(HttpSocket& socket) {
  if (socket.prev != nullptr) socket.prev->next = socket.next;
  if (socket.next != nullptr) socket.next->prev = socket.prev;
  if (head_ == &socket) head_ = socket.next;
  socket.prev = socket.next = nullptr;
  --size_;
}

void HttpSocketList::close_all() {
  for (HttpSocket* s = head_; s != nullptr; s = s->next) s->close_now();
}

}  // namespace sb::app
