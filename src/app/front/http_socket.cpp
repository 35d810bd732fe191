// HttpSocket and HttpSocketList; see http_socket.hpp.
#include "app/front/http_socket.hpp"

#include "app/front/public_origin.hpp"
#include "app/log/log.hpp"
#include "base/check.hpp"

namespace sb::app {
namespace {
// How long a closing connection may take to flush its last response.
constexpr std::uint64_t kLingerMs = 5000;
}  // namespace

void HttpSocket::adopt(net::TcpStream& stream, Shared& shared, std::string_view first_bytes,
                       std::string_view peer, bool tls_relayed) {
  auto* socket = new HttpSocket(stream, shared);  // owns itself until on_closed()
  socket->tls_relayed_ = tls_relayed;
  if (shared.events != nullptr) shared.events->http_connection_opened();
  if (!peer.empty()) socket->connection_.set_peer(std::string(peer));
  // A socket handed over (it comes with its request) had its header read by the
  // worker that accepted it.
  if (shared.proxy_protocol && first_bytes.empty()) {
    shared.proxy_readers.emplace(socket, std::make_unique<net::ProxyHeaderReader>());
    socket->awaiting_proxy_ = true;
  }
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
  // The held request's socket: one per idle session.
  static_assert(sizeof(void*) != 8 || sizeof(HttpSocket) <= 200, "an HttpSocket is 200 bytes");
  stream_.set_handler(this);
  shared_.list.insert(*this);
}

HttpSocket::~HttpSocket() {
  if (awaiting_proxy_) shared_.proxy_readers.erase(this);
  if (forwarded_upgrade_) shared_.upgrade_peers.erase(this);
  if (!switched_) shared_.list.remove(*this);
}

void HttpSocket::close_now() {
  // A socket on its way to another process closes when the send completes: libuv
  // still needs its handle until then.
  if (!handing_over_) stream_.close();
}

void HttpSocket::handle(http::Request& request, http::Exchange& exchange) {
  if (http::RequestHead* head = request.head.get()) {
    // Before the peer below becomes the forwarded client: trust is the peer's.
    PublicOrigin origin =
        public_origin(tls() || tls_relayed_, connection_.peer(), head->forwarded_proto,
                      head->forwarded_host, request.forwarded, shared_.trusted);
    head->secure = origin.secure;
    head->public_host = std::move(origin.host);
  }
  if (shared_.trusted != nullptr &&
      (!request.forwarded_for.empty() || !request.forwarded.empty())) {
    request.peer =
        client_address(request.peer, request.forwarded_for, request.forwarded, *shared_.trusted);
    if (request.upgrade && request.peer != connection_.peer()) {
      shared_.upgrade_peers[this] = request.peer;
      forwarded_upgrade_ = true;
    }
  }
  HttpSocket* const outer = shared_.dispatching;
  shared_.dispatching = this;
  shared_.handler.handle(request, exchange);
  shared_.dispatching = outer;
}

bool HttpSocket::can_hand_over() const {
  return !handing_over_ && !lingering_ && !stream_.closing() && stream_.queued_bytes() == 0 &&
         connection_.holds_only_current_request();
}

net::TcpStream& HttpSocket::begin_handover() {
  SB_CHECK(can_hand_over(), "a socket is handed over only when can_hand_over() says so");
  handing_over_ = true;
  stream_.stop_reading();
  connection_.cancel_linger();
  return stream_;
}

void HttpSocket::end_handover() {
  SB_CHECK(handing_over_ && !switched_,
           "end_handover() ends a hand-over begun by begin_handover()");
  handing_over_ = false;
  // Closes this process's descriptor only: the receiving process holds its own
  // (SCM_RIGHTS duplicated it), so the peer sees nothing. The request handed over
  // stays unanswered here; destroying the Connection forgets it.
  stream_.close();
}

net::TcpStream& HttpSocket::begin_relay() {
  SB_CHECK(!handing_over_ && !switched_, "a socket is relayed once, and not while handed over");
  handing_over_ = true;  // the Connection's answers and closes are ignored from now on
  connection_.cancel_linger();
  switched_ = true;
  shared_.list.retire(*this);
  return stream_;
}

bool HttpSocket::movable() const { return why_not_movable().empty(); }

std::string_view HttpSocket::why_not_movable() const {
  if (handing_over_) return "handed over";
  if (lingering_) return "lingering";
  if (switched_) return "switched protocols";
  if (awaiting_proxy_) return "awaiting its PROXY header";
  if (tls_relayed_ || tls()) return "TLS";
  if (stream_.closing()) return "closing";
  if (stream_.queued_bytes() != 0) return "writing";
  return connection_.why_not_movable();
}

void HttpSocket::let_go() {
  SB_CHECK(!handing_over_ && !switched_, "a socket lets go once, and not while handed over");
  handing_over_ = true;  // inert: answers and closes are ignored from now on
  connection_.let_go();
  stream_.stop_reading();
  // Closing this descriptor sends nothing: the one sent keeps the connection.
  stream_.close();
}

HttpSocket* HttpSocket::adopt_moved(net::TcpStream& stream, Shared& shared,
                                    const http::ConnectionRecord& record, http::CorsPolicy& cors,
                                    std::vector<http::Exchange*>& exchanges) {
  auto* socket = new HttpSocket(stream, shared);  // owns itself until on_closed()
  std::vector<http::Exchange*> mine = socket->connection_.adopt_in_flight(record, cors);
  exchanges.insert(exchanges.end(), mine.begin(), mine.end());
  if (stream.start_reading() != 0) {
    // The exchanges stay valid until the close completes; answers are dropped.
    stream.close();
  }
  return socket;
}

void HttpSocket::on_read(net::TcpStream&, std::string_view bytes) {
  if (lingering_) return;  // the connection is done: what still comes is dropped
  if (awaiting_proxy_) {
    const auto entry = shared_.proxy_readers.find(this);
    SB_CHECK(entry != shared_.proxy_readers.end() && entry->second,
             "a socket awaiting its PROXY header has a reader");
    if (entry == shared_.proxy_readers.end() || !entry->second) {  // refused, if it ever were
      lingering_ = true;
      stream_.close();
      return;
    }
    net::ProxyHeaderReader& reader = *entry->second;
    std::size_t used = 0;
    const auto status = reader.feed(bytes, used);
    if (status == net::ProxyHeaderReader::Status::kNeedMore) return;
    if (status == net::ProxyHeaderReader::Status::kInvalid) {
      SB_LOG_DEBUG("connection from %s closed: %s", connection_.peer().c_str(),
                   reader.error().c_str());
      if (shared_.events != nullptr) shared_.events->proxy_header_refused();
    } else if (!reader.header().local) {
      connection_.set_peer(reader.header().source_ip);
    }
    shared_.proxy_readers.erase(entry);
    awaiting_proxy_ = false;
    if (status == net::ProxyHeaderReader::Status::kInvalid) {
      lingering_ = true;  // nothing more is read from it
      stream_.close();
      return;
    }
    bytes.remove_prefix(used);
  }
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
  // "HTTP/1.1 200 OK": the status is always at the same place.
  if (shared_.events != nullptr && head.size() > 12) {
    shared_.events->http_response((head[9] - '0') * 100 + (head[10] - '0') * 10 + (head[11] - '0'));
  }
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
  if (shared_.events != nullptr) shared_.events->http_response(101);
  std::string peer = connection_.peer();
  SB_CHECK(!switched_, "a socket switches protocols once");
  if (forwarded_upgrade_) {
    if (auto entry = shared_.upgrade_peers.find(this); entry != shared_.upgrade_peers.end()) {
      peer = std::move(entry->second);
      shared_.upgrade_peers.erase(entry);
    }
    forwarded_upgrade_ = false;
  }
  switched_ = true;
  shared_.list.retire(*this);
  shared_.upgrades->take_over(stream_, first_bytes, peer);
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

void HttpSocketList::close_idle() {
  for (HttpSocket* s = head_; s != nullptr; s = s->next) {
    if (s->requests_in_flight() == 0) s->close_now();
  }
}

void HttpSocketList::close_all() {
  for (HttpSocket* s = head_; s != nullptr; s = s->next) s->close_now();
}

}  // namespace sb::app
