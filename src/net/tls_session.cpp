// TlsSession over a minimal memory BIO (see tls_session.hpp for the why).
//
// The BIO is a source/sink whose data pointer is the TlsSession: its read callback
// copies out of the view feed() is working through, and answers "retry later" when
// that view is used up; its write callback appends to the session's output string.
// One BIO_METHOD serves every session of the process.
//
// OpenSSL reports errors through a per-thread queue that SSL_get_error() consults,
// so every SSL call below starts with a clear queue (ERR_clear_error) and a failure
// takes its text out of the queue at once.
#include "net/tls_session.hpp"

#include <arpa/inet.h>
#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509_vfy.h>
#include <openssl/x509v3.h>

#include <algorithm>
#include <array>
#include <climits>
#include <cstring>
#include <utility>

namespace sb::net {

namespace {
std::size_t g_live_sessions = 0;

// The largest TLS record payload: one SSL_read never returns more.
constexpr std::size_t kRecordBytes = 16 * 1024;

bool is_ip_literal(const std::string& host) {
  std::array<unsigned char, 16> address{};
  return inet_pton(AF_INET, host.c_str(), address.data()) == 1 ||
         inet_pton(AF_INET6, host.c_str(), address.data()) == 1;
}
}  // namespace

// The BIO callbacks, befriended by TlsSession.
struct TlsBioAccess {
  static int read(BIO* bio, char* out, int size) {
    auto* session = static_cast<TlsSession*>(BIO_get_data(bio));
    BIO_clear_retry_flags(bio);
    if (session == nullptr || size <= 0) return 0;
    if (session->input_.empty()) {
      BIO_set_retry_read(bio);  // not the end of the stream, just "nothing yet"
      return -1;
    }
    const std::size_t n = std::min(session->input_.size(), static_cast<std::size_t>(size));
    std::memcpy(out, session->input_.data(), n);
    session->input_.remove_prefix(n);
    return static_cast<int>(n);
  }

  static int write(BIO* bio, const char* in, int size) {
    auto* session = static_cast<TlsSession*>(BIO_get_data(bio));
    BIO_clear_retry_flags(bio);
    if (session == nullptr || size <= 0) return 0;
    session->output_.append(in, static_cast<std::size_t>(size));
    return size;
  }

  static long control(BIO* bio, int command, long /*number*/, void* /*pointer*/) {
    switch (command) {
      case BIO_CTRL_FLUSH: return 1;  // nothing is buffered in the BIO itself
      case BIO_CTRL_PENDING: {
        const auto* session = static_cast<TlsSession*>(BIO_get_data(bio));
        const std::size_t left = session == nullptr ? 0 : session->input_.size();
        return static_cast<long>(std::min<std::size_t>(left, LONG_MAX));
      }
      default: return 0;
    }
  }

  static int create(BIO* bio) {
    BIO_set_init(bio, 1);
    return 1;
  }

  static void attach(BIO* bio, TlsSession* session) { BIO_set_data(bio, session); }
};

namespace {

// The process's one BIO_METHOD, built on first use and freed at exit.
struct BioMethod {
  BIO_METHOD* method = nullptr;
  BioMethod() {
    method = BIO_meth_new(BIO_get_new_index() | BIO_TYPE_SOURCE_SINK, "switchboard tls memory");
    if (method == nullptr) return;
    BIO_meth_set_read(method, &TlsBioAccess::read);
    BIO_meth_set_write(method, &TlsBioAccess::write);
    BIO_meth_set_ctrl(method, &TlsBioAccess::control);
    BIO_meth_set_create(method, &TlsBioAccess::create);
  }
  ~BioMethod() { BIO_meth_free(method); }
  BioMethod(const BioMethod&) = delete;
  BioMethod& operator=(const BioMethod&) = delete;
};

const BIO_METHOD* bio_method() {
  static const BioMethod instance;
  return instance.method;
}

}  // namespace

TlsSession::TlsSession(const TlsContext& context, TlsSessionSink& sink)
    : TlsSession(context.native(), sink, Role::kClient) {}

TlsSession::TlsSession(SSL_CTX* context, TlsSessionSink& sink, Role role) : sink_(sink) {
  ++g_live_sessions;
  ERR_clear_error();
  ssl_ = context == nullptr ? nullptr : SSL_new(context);
  if (ssl_ == nullptr) return;  // start() reports it
  BIO* bio = bio_method() == nullptr ? nullptr : BIO_new(bio_method());
  if (bio == nullptr) {
    SSL_free(ssl_);
    ssl_ = nullptr;
    return;
  }
  TlsBioAccess::attach(bio, this);
  SSL_set_bio(ssl_, bio, bio);  // one BIO both ways: SSL_set_bio takes one reference
  if (role == Role::kServer) {
    SSL_set_accept_state(ssl_);
  } else {
    SSL_set_connect_state(ssl_);
  }
}

TlsSession::~TlsSession() {
  --g_live_sessions;
  SSL_free(ssl_);  // frees the BIO too; nothing is sent (close_notify is explicit)
}

std::size_t TlsSession::live_count() { return g_live_sessions; }

void TlsSession::start(std::string_view host_name) {
  if (state_ != State::kIdle) return;
  if (ssl_ == nullptr) {
    fail("cannot create a TLS connection", SSL_ERROR_SSL);
    return;
  }
  const std::string host(host_name);
  ERR_clear_error();
  // SNI (SSL_set_tlsext_host_name, spelt out: the macro's C cast trips our warnings).
  if (!host.empty() && !is_ip_literal(host) &&
      SSL_ctrl(ssl_, SSL_CTRL_SET_TLSEXT_HOSTNAME, TLSEXT_NAMETYPE_host_name,
               const_cast<char*>(host.c_str())) != 1) {
    fail("cannot set the server name", SSL_ERROR_SSL);
    return;
  }
  if (SSL_get_verify_mode(ssl_) != SSL_VERIFY_NONE) {
    // No partial wildcards ("x*.example.org"); a wildcard matches one label only.
    SSL_set_hostflags(ssl_, X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS);
    const int set = is_ip_literal(host)
                        ? X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(ssl_), host.c_str())
                        : SSL_set1_host(ssl_, host.c_str());
    if (host.empty() || set != 1) {
      fail("cannot verify a certificate for an empty or invalid server name", SSL_ERROR_SSL);
      return;
    }
  }
  state_ = State::kHandshaking;
  drive_handshake();
  flush();
}

void TlsSession::accept() {
  if (state_ != State::kIdle) return;
  if (ssl_ == nullptr) {
    fail("cannot create a TLS connection", SSL_ERROR_SSL);
    return;
  }
  state_ = State::kHandshaking;
}

void TlsSession::feed(std::string_view ciphertext) {
  if (state_ != State::kHandshaking && state_ != State::kOpen && state_ != State::kClosed) return;
  if (peer_closed_) return;  // after close_notify the peer may send only TCP's FIN
  input_ = ciphertext;
  if (state_ == State::kHandshaking) drive_handshake();
  if (state_ == State::kOpen || state_ == State::kClosed) read_records();
  input_ = {};
  flush();
}

void TlsSession::write(std::string_view plaintext) {
  if (plaintext.empty() || sent_close_) return;
  if (state_ == State::kIdle || state_ == State::kHandshaking) {
    early_.append(plaintext);
    return;
  }
  if (state_ != State::kOpen) return;
  write_now(plaintext);
  flush();
}

void TlsSession::close_notify() {
  if (sent_close_) return;
  sent_close_ = true;
  early_.clear();
  if (state_ != State::kOpen) return;  // mid-handshake: nothing more will be written
  state_ = State::kClosed;
  ERR_clear_error();
  // 0 means "sent ours, theirs not seen yet", which is all we ask; the peer's
  // close_notify is picked up by SSL_read in read_records().
  if (SSL_shutdown(ssl_) < 0) ERR_clear_error();
  flush();
}

std::string_view TlsSession::protocol() const {
  return state_ == State::kOpen || state_ == State::kClosed ? SSL_get_version(ssl_) : "";
}

std::string_view TlsSession::cipher() const {
  if (state_ != State::kOpen && state_ != State::kClosed) return "";
  const char* name = SSL_get_cipher_name(ssl_);
  return name == nullptr ? "" : name;
}

std::string_view TlsSession::alpn() const {
  if (ssl_ == nullptr) return "";
  const unsigned char* data = nullptr;
  unsigned int length = 0;
  SSL_get0_alpn_selected(ssl_, &data, &length);
  return data == nullptr ? "" : std::string_view(reinterpret_cast<const char*>(data), length);
}

bool TlsSession::resumed() const { return ssl_ != nullptr && SSL_session_reused(ssl_) == 1; }

void TlsSession::drive_handshake() {
  ERR_clear_error();
  const int rc = SSL_do_handshake(ssl_);
  if (rc == 1) {
    state_ = State::kOpen;
    // The handshake's last flight goes out before anything the callback writes.
    flush();
    sink_.tls_established();
    if (state_ != State::kOpen) return;
    if (!early_.empty()) {
      write_now(std::exchange(early_, {}));
      std::string().swap(early_);
    }
    return;
  }
  const int error = SSL_get_error(ssl_, rc);
  if (error == SSL_ERROR_WANT_READ) return;  // the rest of the peer's flight is to come
  fail("TLS handshake failed", error);
}

void TlsSession::read_records() {
  // A stack buffer: sessions may be fed from inside another session's callback
  // (tests pipe two in-process peers together), so no shared static buffer.
  std::array<char, kRecordBytes> plain;
  while ((state_ == State::kOpen || state_ == State::kClosed) && !peer_closed_) {
    ERR_clear_error();
    const int n = SSL_read(ssl_, plain.data(), static_cast<int>(plain.size()));
    if (n > 0) {
      sink_.tls_received(std::string_view(plain.data(), static_cast<std::size_t>(n)));
      continue;
    }
    const int error = SSL_get_error(ssl_, n);
    if (error == SSL_ERROR_WANT_READ) return;
    if (error == SSL_ERROR_ZERO_RETURN) {
      peer_closed_ = true;
      state_ = State::kClosed;
      early_.clear();
      flush();  // SSL_read may have produced nothing, but keep the order anyway
      sink_.tls_peer_closed();
      return;
    }
    fail("TLS connection failed", error);
    return;
  }
}

void TlsSession::write_now(std::string_view plaintext) {
  // SSL_write takes an int; a record-sized loop keeps each call well inside it.
  while (!plaintext.empty() && state_ == State::kOpen) {
    const std::size_t chunk = std::min(plaintext.size(), std::size_t{1} << 20);
    ERR_clear_error();
    const int n = SSL_write(ssl_, plaintext.data(), static_cast<int>(chunk));
    if (n <= 0) {
      fail("TLS write failed", SSL_get_error(ssl_, n));
      return;
    }
    plaintext.remove_prefix(static_cast<std::size_t>(n));
  }
}

void TlsSession::flush() {
  if (output_.empty()) return;
  // Hand over the string itself: the usual case (kernel takes it all) frees it, and
  // the next record starts a fresh small buffer rather than keeping a large one.
  sink_.tls_send(std::exchange(output_, {}));
}

void TlsSession::fail(std::string_view what, int ssl_error) {
  if (state_ == State::kFailed) return;
  std::string reason(what);
  const bool verifying = ssl_ != nullptr && SSL_get_verify_mode(ssl_) != SSL_VERIFY_NONE;
  const long verify = verifying ? SSL_get_verify_result(ssl_) : X509_V_OK;
  const std::string detail = take_openssl_error();
  if (verify != X509_V_OK) {
    reason += ": certificate verification failed: ";
    reason += X509_verify_cert_error_string(verify);
  } else if (!detail.empty()) {
    reason += ": " + detail;
  } else if (ssl_error == SSL_ERROR_SYSCALL) {
    reason += ": unexpected end of the stream";
  }
  state_ = State::kFailed;
  early_.clear();
  // An alert OpenSSL queued for the peer (bad certificate, ...) still goes out.
  flush();
  sink_.tls_failed(reason);
}

}  // namespace sb::net
