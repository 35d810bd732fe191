// UpstreamLink, its TLS half: whether the link takes up TLS (the first
// <stream:features> of a plain stream, under the `upstream_tls` mode), the
// <starttls/> exchange, and the net::TlsSession slotted between the socket and the
// framer, whose sink the link is. Apart from upstream_link.cpp, which connects,
// writes, reads and closes, so that a plain link's path reads without the
// negotiation in the way; the order of events is in upstream_link.hpp.
#include "xmpp/upstream_link.hpp"

#include "xml/open_tag.hpp"
#include "xmpp/starttls.hpp"

namespace sb::xmpp {

std::string_view UpstreamLink::tls_state() const {
  switch (tls_state_) {
    case Tls::kPlain: return "plain";
    case Tls::kAsked: return "asked";
    case Tls::kHandshaking: return "handshaking";
    case Tls::kOn: return "tls";
  }
  return "plain";
}

// Slots a TlsSession in and sends the ClientHello. False if the link ended.
bool UpstreamLink::begin_tls() {
  std::string error;
  const net::TlsContext* context = connector_.tls_context(error);
  if (context == nullptr) {
    fail(error);
    return false;
  }
  tls_state_ = Tls::kHandshaking;
  net::TlsSessionSink& sink = *this;  // a private base: converted here, not in make_unique
  tls_ = std::make_unique<net::TlsSession>(*context, sink);
  tls_->start(negotiation_->domain);  // may fail at once, through tls_failed
  return state_ == State::kOpen;
}

// The first <stream:features> of a plain stream decide; TLS offers are never passed
// on. Returns whether the element goes to the session.
bool UpstreamLink::accept_features(std::string& features) {
  const TlsOffer offer = take_starttls_offer(features);
  if (tls_state_ == Tls::kOn) return true;
  const TlsMode mode = settings().tls;
  if (!negotiation_) {  // upstream_tls = off, or a later plain stream (after SASL)
    if (offer.required) {
      fail(mode == TlsMode::kOff ? "the server requires TLS and upstream_tls is off"
                                 : "the server requires TLS after it was declined");
      return false;
    }
    return true;
  }
  // XEP-0124 §15 (R15): the link to the server should be encrypted unless the
  // server runs on the same host. There, an optional offer is declined under
  // `auto`: a TLS session costs ~19 KB per connection and protects nothing on
  // loopback. A server that requires TLS gets it.
  const bool decline =
      mode == TlsMode::kAuto && same_host_ && !offer.required && !settings().tls_on_loopback;
  if (offer.offered && !decline) {
    tls_state_ = Tls::kAsked;
    write_raw(std::string(kStartTlsRequest));
    return false;
  }
  if (mode == TlsMode::kRequired) {
    fail("the server does not offer STARTTLS and upstream_tls is required");
    return false;
  }
  // auto and no offer (or one declined on loopback): stay plain, and the session
  // hears of the stream now.
  std::unique_ptr<Negotiation> done = std::move(negotiation_);
  write_raw(take_pending());
  if (done->first_header) tell_opened(*done->first_header);
  return events_ != nullptr;
}

void UpstreamLink::answer_to_starttls(std::string&& element) {
  switch (read_tls_answer(element)) {
    case TlsAnswer::kProceed:
      // Whatever follows on this connection is TLS; a new stream follows that.
      framer_.reset();
      namespaces_.reset();
      begin_tls();
      return;
    case TlsAnswer::kFailure: fail("the server refused STARTTLS"); return;
    case TlsAnswer::kOther:
      if (xml::element_name(element) == "stream:error") {
        report_end(engine::UpstreamEnd::kStreamError, std::move(element));
      } else {
        fail("the server answered <starttls/> with <" + std::string(xml::element_name(element)) +
             ">");
      }
      return;
  }
}

void UpstreamLink::tls_send(std::string&& ciphertext) { write_raw(std::move(ciphertext)); }

void UpstreamLink::tls_established() {
  if (state_ != State::kOpen) return;
  tls_state_ = Tls::kOn;
  framer_.reset();
  namespaces_.reset();
  tls_->write(negotiation_->header);
  negotiation_.reset();
  if (pending_) tls_->write(take_pending());
}

void UpstreamLink::tls_received(std::string_view plaintext) { framer_.feed(plaintext, *this); }

void UpstreamLink::tls_peer_closed() {
  // close_notify without </stream:stream> first: the stream is cut short.
  if (state_ == State::kClosing || owns_itself_) {
    if (stream_ != nullptr) stream_->close();
    return;
  }
  report_end(engine::UpstreamEnd::kFailed, {});
}

void UpstreamLink::tls_failed(std::string_view reason) {
  if (state_ == State::kClosing || owns_itself_) {
    if (stream_ != nullptr) stream_->close();
    return;
  }
  fail(reason);
}

}  // namespace sb::xmpp
