// The client stream state machine of the stub. See c2s_session.hpp.
#include "tools/stub/c2s_session.hpp"

#include "tools/stub/log.hpp"
#include "tools/stub/router.hpp"
#include "tools/stub/sasl.hpp"
#include "tools/stub/stanzas.hpp"
#include "tools/stub/worker.hpp"
#include "xml/escape.hpp"
#include "xml/open_tag.hpp"

namespace sb::stub {
namespace {

// Stanzas larger than this end the stream (policy-violation): a chat test needs
// nothing near it, and it bounds what one connection can make the stub buffer.
constexpr std::size_t kMaxStanzaBytes = 256 * 1024;
// A client that stops reading while others send to it is cut off at this backlog.
constexpr std::size_t kMaxBacklogBytes = 8u << 20;

constexpr std::string_view kBindNs = "urn:ietf:params:xml:ns:xmpp-bind";
constexpr std::string_view kSessionNs = "urn:ietf:params:xml:ns:xmpp-session";
constexpr std::string_view kRosterNs = "jabber:iq:roster";
constexpr std::string_view kPingNs = "urn:xmpp:ping";
constexpr std::string_view kSaslNs = "urn:ietf:params:xml:ns:xmpp-sasl";

bool valid_resource(std::string_view resource) {
  if (resource.empty() || resource.size() > 1023) return false;
  for (char c : resource) {
    if (static_cast<unsigned char>(c) < 0x20) return false;
  }
  return true;
}

}  // namespace

C2sSession::C2sSession(Worker& worker, net::TcpStream& stream)
    : worker_(worker), stream_(&stream), framer_(kMaxStanzaBytes) {
  stream.set_handler(this);
}

bool C2sSession::start() {
  if (stream_->start_reading() == 0) return true;
  stream_->close();
  return false;
}

std::string_view C2sSession::domain() const {
  if (bare_len_ == 0) return jid_;
  const std::string_view bare = std::string_view(jid_).substr(0, bare_len_);
  return bare.substr(bare.find('@') + 1);
}

void C2sSession::send(std::string bytes) {
  if (state_ == State::kClosing) return;
  stream_->write(std::move(bytes));
}

void C2sSession::deliver(std::string_view stanza) {
  if (state_ == State::kClosing) return;
  if (stream_->queued_bytes() > kMaxBacklogBytes) {
    log(LogLevel::kWarn, std::string(jid_) + " reads too slowly; closing its stream");
    finish(stream_error("policy-violation"));
    return;
  }
  stream_->write(std::string(stanza));
}

void C2sSession::finish(std::string last) {
  if (state_ == State::kClosing) return;
  stream_->write(std::move(last));
  state_ = State::kClosing;
  // Close once the kernel has the bytes: at once if it took them all.
  if (stream_->queued_bytes() == 0) stream_->close();
}

void C2sSession::on_read(net::TcpStream& /*stream*/, std::string_view bytes) {
  if (state_ == State::kClosing) return;
  framer_.feed(bytes, *this);
}

void C2sSession::on_read_end(net::TcpStream& stream, int /*status*/) { stream.close(); }

void C2sSession::on_drained(net::TcpStream& stream) {
  if (state_ == State::kClosing) stream.close();
}

void C2sSession::on_write_error(net::TcpStream& stream, int /*status*/) { stream.close(); }

void C2sSession::on_closed(net::TcpStream& /*stream*/) {
  if (bound_) worker_.router().unbind(*this);
  worker_.session_closed(this);  // deletes this
}

void C2sSession::stream_opened(std::string_view open_tag) {
  if (state_ == State::kRestart) {
    send(stream_header(domain(), worker_.next_stream_id()) + features_after_auth());
    state_ = State::kBind;
    return;
  }
  if (state_ != State::kHeader) return;
  std::string to = xml::find_attribute(open_tag, "to").value_or("");
  const std::string& only = worker_.options().domain;
  if (to.empty()) to = only;
  // A domain has none of the bytes a local part may not hold either.
  const bool known = !to.empty() && (only.empty() || to == only) && valid_local_part(to);
  if (!known) {
    // RFC 6120 4.9.1.2: an error before our header still goes after a header.
    const std::string_view ours = only.empty() ? std::string_view("stub") : std::string_view(only);
    finish(stream_header(ours, worker_.next_stream_id()) + stream_error("host-unknown"));
    return;
  }
  std::string reply = stream_header(to, worker_.next_stream_id());
  jid_ = std::move(to);
  send(reply + features_before_auth());
  state_ = State::kAuth;
}

void C2sSession::stanza(std::string&& bytes) {
  switch (state_) {
    case State::kAuth: on_auth(bytes); return;
    case State::kBind: on_bind(bytes); return;
    case State::kReady: on_ready(bytes); return;
    case State::kHeader:
    case State::kRestart:
    case State::kClosing: return;  // the framer delivers no stanza before a header
  }
}

void C2sSession::stream_closed() {
  if (state_ == State::kClosing) return;
  finish(std::string(kStreamClose));
}

void C2sSession::framing_error(std::string_view what) {
  if (log_enabled(LogLevel::kDebug)) log(LogLevel::kDebug, "framing error: " + std::string(what));
  if (state_ == State::kHeader) {
    finish(stream_header("stub", worker_.next_stream_id()) + stream_error("not-well-formed"));
  } else {
    finish(stream_error("not-well-formed"));
  }
}

void C2sSession::on_auth(std::string_view stanza) {
  const StanzaHead head = read_head(stanza);
  if (head.name != "auth" || xml::find_attribute(stanza, "xmlns").value_or("") != kSaslNs) {
    finish(stream_error("not-authorized"));
    return;
  }
  const std::string mechanism = xml::find_attribute(stanza, "mechanism").value_or("");
  std::string local;
  if (mechanism == "PLAIN") {
    const auto decoded = decode_base64(element_text(stanza));
    const auto credentials = decoded ? parse_plain(*decoded) : std::nullopt;
    if (!credentials) {
      send(sasl_failure("malformed-request"));
      return;
    }
    local = credentials->authcid;  // any password is accepted
  } else if (mechanism == "ANONYMOUS") {
    local = "anon-" + worker_.random_token();
  } else {
    send(sasl_failure("invalid-mechanism"));
    return;
  }
  jid_ = local + "@" + jid_;
  bare_len_ = static_cast<std::uint32_t>(jid_.size());
  send(sasl_success());
  framer_.reset();  // the client restarts the stream (RFC 6120 6.4.6)
  state_ = State::kRestart;
}

void C2sSession::on_bind(std::string_view stanza) {
  const StanzaHead head = read_head(stanza);
  const auto child = head.name == "iq" && head.type == "set" ? first_child(stanza) : std::nullopt;
  if (!child || child->name != "bind" || child->xmlns != kBindNs) {
    finish(stream_error("not-authorized"));  // RFC 6120 7.1: nothing before bind
    return;
  }
  std::string resource = child_text(stanza, "resource").value_or("");
  const std::string_view bare = std::string_view(jid_).substr(0, bare_len_);
  // A resource already bound here (or none, or an unusable one) gets a generated
  // one, which RFC 6120 7.7.2.2 allows the server to do.
  if (!valid_resource(resource) || worker_.router().find(bare, resource) != nullptr) {
    resource = "stub-p" + std::to_string(worker_.index()) + "-" + worker_.random_token();
  }
  jid_ += '/';
  jid_ += resource;
  jid_.shrink_to_fit();
  bound_ = true;
  worker_.router().bind(*this);
  state_ = State::kReady;
  std::string payload = "<bind xmlns='";
  payload += kBindNs;
  payload += "'><jid>";
  xml::append_escaped_text(payload, jid_);
  payload += "</jid></bind>";
  send(iq_result(head, jid_, payload));
  if (log_enabled(LogLevel::kDebug)) log(LogLevel::kDebug, "bound " + jid_);
}

void C2sSession::on_ready(std::string_view stanza) {
  const StanzaHead head = read_head(stanza);
  if (!head.ok) {
    finish(stream_error("not-well-formed"));
    return;
  }
  const std::string to = value(head.to);
  if (head.name == "iq") {
    if (to.empty() || to == domain() || to == bare() || to == jid_) {
      on_server_iq(stanza, head);
    } else {
      worker_.router().route(to, stamp_from(stanza, head, jid_));
    }
  } else if (head.name == "message") {
    if (!to.empty()) worker_.router().route(to, stamp_from(stanza, head, jid_));
  } else if (head.name == "presence") {
    if (!to.empty()) {
      worker_.router().route(to, stamp_from(stanza, head, jid_));
    } else if (head.type.empty() || head.type == "unavailable") {
      // A broadcast: the stub has no rosters, so it goes to the user's own
      // resource only, as RFC 6121 4.2.2 asks (clients see their login complete).
      send(stamp_from(stanza, head, jid_));
    }
  } else {
    finish(stream_error("unsupported-stanza-type"));
  }
}

void C2sSession::on_server_iq(std::string_view stanza, const StanzaHead& head) {
  if (head.type != "get" && head.type != "set") return;  // results and errors: nothing to do
  const auto child = first_child(stanza);
  const std::string_view ns = child ? std::string_view(child->xmlns) : std::string_view();
  const bool get = head.type == "get";
  if (get && child && child->name == "ping" && ns == kPingNs) {
    send(iq_result(head, jid_, {}));
  } else if (!get && child && child->name == "session" && ns == kSessionNs) {
    send(iq_result(head, jid_, {}));
  } else if (get && child && child->name == "query" && ns == kRosterNs) {
    send(iq_result(head, jid_, "<query xmlns='jabber:iq:roster'/>"));
  } else if (!get && child && child->name == "bind" && ns == kBindNs) {
    send(iq_error(head, jid_, "not-allowed"));  // one bind per stream
  } else {
    send(iq_error(head, jid_, "service-unavailable"));
  }
}

}  // namespace sb::stub
