// TlsServerStream; see tls_server_stream.hpp.
#include "net/tls_server_stream.hpp"

#include <uv.h>

#include <utility>

namespace sb::net {

namespace {
std::size_t g_failed_handshakes = 0;
// Writes up to this size are joined into one record: an HTTP head and its body
// then cost one record and one send, not two.
constexpr std::size_t kJoinBytes = 16 * 1024;
}  // namespace

void TlsServerStream::attach(TcpStream& stream, SSL_CTX* context) {
  auto* filter = new TlsServerStream(stream, context);  // freed in on_closed()
  stream.attach_filter(filter);
  filter->session_.accept();
  if (filter->session_.state() == TlsSession::State::kFailed) stream.close();
}

TlsServerStream::TlsServerStream(TcpStream& stream, SSL_CTX* context)
    : stream_(stream), session_(context, *this, TlsSession::Role::kServer) {}

const TlsSession* TlsServerStream::session_of(const TcpStream& stream) {
  // The only filter there is; tcp_stream.hpp keeps the door open for others.
  const StreamFilter* filter = stream.attached_filter();
  return filter == nullptr ? nullptr : &static_cast<const TlsServerStream*>(filter)->session_;
}

std::size_t TlsServerStream::failed_handshakes() { return g_failed_handshakes; }

void TlsServerStream::filter_write(std::string_view first, std::string_view second) {
  if (!second.empty() && first.size() + second.size() <= kJoinBytes) {
    std::string joined;
    joined.reserve(first.size() + second.size());
    joined.append(first);
    joined.append(second);
    session_.write(joined);
    return;
  }
  session_.write(first);
  session_.write(second);
}

void TlsServerStream::filter_shutdown() { session_.close_notify(); }

void TlsServerStream::on_read(TcpStream&, std::string_view bytes) { session_.feed(bytes); }

void TlsServerStream::on_read_end(TcpStream& stream, int status) {
  if (session_.state() == TlsSession::State::kHandshaking ||
      session_.state() == TlsSession::State::kIdle) {
    // Gone before the handshake completed: nobody above has heard a byte.
    ++g_failed_handshakes;
    stream.close();
    return;
  }
  if (ended_) return;
  ended_ = true;
  if (inner_ != nullptr) inner_->on_read_end(stream, status);
}

void TlsServerStream::on_drained(TcpStream& stream) {
  if (inner_ != nullptr) inner_->on_drained(stream);
}

void TlsServerStream::on_write_error(TcpStream& stream, int status) {
  if (inner_ != nullptr) {
    inner_->on_write_error(stream, status);
  } else {
    stream.close();
  }
}

void TlsServerStream::on_closed(TcpStream& stream) {
  if (inner_ != nullptr) inner_->on_closed(stream);
  delete this;
}

void TlsServerStream::tls_send(std::string&& ciphertext) {
  stream_.write_filtered(std::move(ciphertext));
}

void TlsServerStream::tls_received(std::string_view plaintext) {
  if (inner_ != nullptr && !stream_.closing()) inner_->on_read(stream_, plaintext);
}

void TlsServerStream::tls_peer_closed() {
  // close_notify: the client is done, as with a FIN on a plain connection.
  if (ended_) return;
  ended_ = true;
  stream_.stop_reading();
  if (inner_ != nullptr) inner_->on_read_end(stream_, UV_EOF);
}

void TlsServerStream::tls_failed(std::string_view) {
  // The alert (if any) was queued before this; closing after it lets it go out:
  // a write the kernel took is not cancelled. An open connection that fails (a
  // bad record) ends as a reset connection would.
  if (!established_) ++g_failed_handshakes;
  stream_.close();
}

}  // namespace sb::net
