// HttpSocket and HttpSocketList; see http_socket.hpp.
#include "app/http_socket.hpp"

namespace sb::app {
namespace {
// How long a closing connection may take to flush its last response.
constexpr std::uint64_t kLingerMs = 5000;
}  // namespace

void HttpSocket::adopt(net::TcpStream& stream, Shared& shared, std::string_view first_bytes) {
  auto* socket = new HttpSocket(stream, shared);  // owns itself until on_closed()
  if (stream.start_reading() != 0) {
    stream.close();
    return;
  }
  // Reading only starts delivering on the next loop turn, so these bytes come
  // first. They are fed after start_reading() because parsing them may pause
  // reading again (a pipelining limit), which must not be undone.
  if (!first_bytes.empty()) socket->connection_.feed(first_bytes);
}

HttpSocket::HttpSocket(net::TcpStream& stream, Shared& shared)
    : stream_(stream),
      shared_(shared),
      connection_(static_cast<http::Transport&>(*this), static_cast<http::Handler&>(*this),
                  shared.limits, shared.cors, shared.wheel, stream.peer_ip()) {
  stream_.set_handler(this);
  shared_.list.insert(*this);
}

HttpSocket::~HttpSocket() {
  if (!switched_) shared_.list.remove(*this);
}

void HttpSocket::close_now() {
  // A socket on its way to another process closes when the send completes: libuv
  // still needs its handle until then.
  if (!handing_over_) stream_.close();
}

void HttpSocket::handle(http::Request& request, http::Exchange& exchange) {
  HttpSocket* const outer = shared_.dispatching;
  shared_.dispatching = this;
  shared_.handler.handle(request, exchange);
  shared_.dispatching = outer;
}

bool HttpSocket::can_hand_over() const {
  return !handing_over_ && !lingering_ && !stream_.closing() &&
         stream_.queued_bytes() == 0 && connection_.holds_only_current_request();
}

net::TcpStream& HttpSocket::begin_handover() {
  handing_over_ = true;
  stream_.stop_reading();
  connection_.cancel_linger();
  return stream_;
}

void HttpSocket::end_handover() {
  handing_over_ = false;
  // Closes this process's descriptor only: the receiving process holds its own
  // (SCM_RIGHTS duplicated it), so the peer sees nothing. The request handed over
  // stays unanswered here; destroying the Connection forgets it.
  stream_.close();
}

net::TcpStream& HttpSocket::begin_relay() {
  handing_over_ = true;  // the Connection's answers and closes are ignored from now on
  connection_.cancel_linger();
  switched_ = true;
  shared_.list.retire(*this);
  return stream_;
}

void HttpSocket::on_read(net::TcpStream&, std::string_view bytes) {
  if (lingering_) return;  // the connection is done: what still comes is dropped
  connection_.feed(bytes);
}

void HttpSocket::on_read_end(net::TcpStream&, int) {
  connection_.peer_closed();
  stream_.close();
}

void HttpSocket::on_write_error(net::TcpStream&, int) {
  connection_.peer_closed();
  stream_.close();
}


void HttpSocket::on_closed(net::TcpStream&) { delete this; }

void HttpSocket::write(std::string head, std::shared_ptr<const std::string> body) {
  if (handing_over_) return;  // the answer is the receiving worker's to give
  if (body) {
    stream_.write(std::move(head), std::move(body));
  } else {
    stream_.write(std::move(head));
  }
}

void HttpSocket::close() {
  if (handing_over_) return;  // end_handover() closes
  // A lingering close (RFC 9112 §9.6): half-close once the last answer is written
  // and go on reading, discarding, until the client closes too. A client still
  // sending a refused body (413, 400...) then reads our answer instead of a reset
  // caused by data arriving at a closed socket. kLingerMs bounds it all, also for
  // a client that never reads.
  lingering_ = true;
  stream_.shutdown_after_writes();
  if (!stream_.reading() && !stream_.closing()) stream_.start_reading();
  connection_.linger(kLingerMs);
}

void HttpSocket::pause_reading() {
  if (!handing_over_) stream_.stop_reading();
}
void HttpSocket::resume_reading() {
  if (!stream_.closing() && !handing_over_) stream_.start_reading();
}
std::size_t HttpSocket::queued_bytes() const { return stream_.queued_bytes(); }

void HttpSocket::linger_expired() {
  if (!handing_over_) stream_.close();
}

void HttpSocket::switch_protocols(std::string head, std::string& first_bytes) {
  if (handing_over_) return;
  stream_.write(std::move(head));
  if (shared_.upgrades == nullptr) {
    close();
    return;
  }
  switched_ = true;
  shared_.list.retire(*this);
  shared_.upgrades->take_over(stream_, first_bytes, connection_.peer_ip());
}

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

void HttpSocketList::retire(HttpSocket& socket) {
  remove(socket);
  socket.next = retired_;
  retired_ = &socket;
}

void HttpSocketList::collect() {
  while (retired_ != nullptr) {
    HttpSocket* socket = retired_;
    retired_ = socket->next;
    delete socket;
  }
}

void HttpSocketList::close_all() {
  for (HttpSocket* s = head_; s != nullptr; s = s->next) s->close_now();
}

}  // namespace sb::app
