// What the stub writes on a c2s stream, and the few fields it reads from what a
// client writes.
//
// Reading: StanzaHead looks at the opening tag of one framed stanza only (name,
// to, from, id, type), straight over the bytes with xml::AttributeCursor: no DOM,
// no copy. That is all routing needs; payloads travel as the exact bytes received.
//
// Writing: every reply is built as one string with its values escaped. Replies to
// an iq the client addressed to the server echo that address as 'from', since
// clients match answers on id and 'from'.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace sb::stub {

// The opening tag of a stanza. Values are raw (entity references not decoded);
// value() decodes one when it may hold a reference.
struct StanzaHead {
  std::string_view name;  // local name: "message", "iq", "presence", "auth", ...
  std::string_view to, from, id, type;
  std::size_t name_end = 0;                  // where an attribute can be inserted
  std::size_t from_begin = 0, from_end = 0;  // the 'from' attribute, if any (else 0, 0)
  bool ok = false;  // false: not a tag (the framer let through something odd)
};

StanzaHead read_head(std::string_view stanza);
// A raw attribute value with references decoded (a copy only when needed).
std::string value(std::string_view raw);

// The first child element of a stanza: its local name and xmlns (decoded).
struct ChildInfo {
  std::string_view name;
  std::string xmlns;
};
std::optional<ChildInfo> first_child(std::string_view stanza);
// Text of the first descendant element with local name `name` (decoded); nullopt if
// there is none; "" for an empty element.
std::optional<std::string> child_text(std::string_view stanza, std::string_view name);
// Text content of a stanza's top element (<auth>BASE64</auth> -> "BASE64").
std::string element_text(std::string_view stanza);

// The stream header the server answers with (with the XML declaration).
std::string stream_header(std::string_view domain, std::string_view stream_id);
std::string features_before_auth();  // SASL PLAIN and ANONYMOUS, nothing else
std::string features_after_auth();   // bind, and session (optional)
std::string sasl_success();
std::string sasl_failure(std::string_view condition);  // e.g. "not-authorized"
// <stream:error> with an RFC 6120 condition, then </stream:stream>.
std::string stream_error(std::string_view condition);
inline constexpr std::string_view kStreamClose = "</stream:stream>";

// Answers to an iq addressed to the server. `head` is the request's; `to` the
// client's full JID; `payload` goes inside the result ("" for an empty result).
std::string iq_result(const StanzaHead& head, std::string_view to, std::string_view payload);
// An iq error of type 'cancel' with an RFC 6120 stanza error condition.
std::string iq_error(const StanzaHead& head, std::string_view to, std::string_view condition);

// The stanza with its 'from' replaced by `from` (the server stamps the sender's full
// JID on everything it routes: a client cannot speak for someone else).
std::string stamp_from(std::string_view stanza, const StanzaHead& head, std::string_view from);

// The service-unavailable error for a stanza that could not be delivered, addressed
// back to its sender, or nullopt when none is due (errors are never answered with
// errors; presence is dropped silently; iq results too).
std::optional<std::string> bounce(std::string_view stanza);

}  // namespace sb::stub
