// The XML side of STARTTLS (RFC 6120 §5.4): reading the server's offer out of its
// <stream:features>, the request switchboard sends, and the server's answer.
// The TLS itself is net::TlsSession; the order of events is UpstreamLink's.
#pragma once

#include <string>
#include <string_view>

namespace sb::xmpp {

inline constexpr std::string_view kStartTlsRequest =
    "<starttls xmlns='urn:ietf:params:xml:ns:xmpp-tls'/>";

struct TlsOffer {
  bool offered = false;   // <starttls xmlns='urn:ietf:params:xml:ns:xmpp-tls'> was there
  bool required = false;  // ... with <required/> inside
};

// Reads and removes the STARTTLS offer from a <stream:features> element in place:
// whatever the link does about it, the BOSH client must never see the offer.
TlsOffer take_starttls_offer(std::string& features_element);

enum class TlsAnswer { kProceed, kFailure, kOther };

// The server's answer to <starttls/>: <proceed/> or <failure/> in the TLS namespace
// (declared on the element itself, plainly or with a prefix); anything else is kOther.
TlsAnswer read_tls_answer(std::string_view element);

}  // namespace sb::xmpp
