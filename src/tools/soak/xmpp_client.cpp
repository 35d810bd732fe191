// XmppClient: the login state machine and the stanzas of a chatting user.
//
// Each server answer moves the state on; anything unexpected ends the session
// with an error kind that names the step ("sasl_failure:not-authorized",
// "bind_error", "stream_error:conflict"), so the report's errors-by-kind says
// where logins break.
#include "tools/soak/xmpp_client.hpp"

#include <cstring>

#include "tools/soak/bosh_transport.hpp"
#include "tools/soak/env.hpp"
#include "tools/soak/ws_transport.hpp"
#include "xml/escape.hpp"

namespace sb::soak {

namespace {

std::string_view local_name(const char* name) {
  const char* colon = std::strchr(name, ':');
  return colon != nullptr ? std::string_view(colon + 1) : std::string_view(name);
}

// The first element child's local name, "" if none (a condition element).
std::string first_child_name(const pugi::xml_node& node) {
  for (const pugi::xml_node& c : node.children()) {
    if (c.type() == pugi::node_element) {
      const std::string_view n = local_name(c.name());
      if (n != "text") return std::string(n);
    }
  }
  return "unknown";
}

pugi::xml_node child_named(const pugi::xml_node& node, std::string_view name) {
  for (const pugi::xml_node& c : node.children()) {
    if (c.type() == pugi::node_element && local_name(c.name()) == name) return c;
  }
  return {};
}

}  // namespace

std::string base64(std::string_view in) {
  static constexpr char kAlphabet[] =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  out.reserve((in.size() + 2) / 3 * 4);
  std::size_t i = 0;
  for (; i + 2 < in.size(); i += 3) {
    const auto n = static_cast<std::uint32_t>(static_cast<unsigned char>(in[i]) << 16 |
                                              static_cast<unsigned char>(in[i + 1]) << 8 |
                                              static_cast<unsigned char>(in[i + 2]));
    out += kAlphabet[n >> 18];
    out += kAlphabet[(n >> 12) & 63];
    out += kAlphabet[(n >> 6) & 63];
    out += kAlphabet[n & 63];
  }
  if (i + 1 == in.size()) {
    const auto n = static_cast<std::uint32_t>(static_cast<unsigned char>(in[i]) << 16);
    out += kAlphabet[n >> 18];
    out += kAlphabet[(n >> 12) & 63];
    out += "==";
  } else if (i + 2 == in.size()) {
    const auto n = static_cast<std::uint32_t>(static_cast<unsigned char>(in[i]) << 16 |
                                              static_cast<unsigned char>(in[i + 1]) << 8);
    out += kAlphabet[n >> 18];
    out += kAlphabet[(n >> 12) & 63];
    out += kAlphabet[(n >> 6) & 63];
    out += '=';
  }
  return out;
}

XmppClient::XmppClient(Env& env, ClientObserver* observer, std::uint64_t number,
                       std::uint32_t index)
    : env_(env), observer_(observer), number_(number), index_(index) {}

XmppClient::~XmppClient() = default;

void XmppClient::start(std::uint64_t intended_ns) {
  login_started_ns_ = intended_ns;
  state_ = State::kOpening;
  if (env_.options->transport == TransportKind::kWebSocket) {
    transport_ = std::make_unique<WsTransport>(env_, static_cast<TransportEvents*>(this));
  } else {
    transport_ = std::make_unique<BoshTransport>(env_, static_cast<TransportEvents*>(this));
  }
  transport_->open();
}

void XmppClient::on_open() {
  if (state_ == State::kOpening) state_ = State::kAuth;
}

void XmppClient::on_stanza(const pugi::xml_node& stanza) {
  const std::string_view name = local_name(stanza.name());
  if (name == "message") {
    if (state_ != State::kOnline && state_ != State::kClosing) return;
    if (std::strcmp(stanza.attribute("type").as_string(), "error") == 0) {
      env_.interval.tally.error("message_error:" + first_child_name(child_named(stanza, "error")));
      return;
    }
    const pugi::xml_node body = child_named(stanza, "body");
    if (body) observer_->on_chat(*this, body.child_value());
    return;
  }
  if (name == "features") {
    on_features(stanza);
    return;
  }
  if (name == "iq") {
    on_iq(stanza);
    return;
  }
  if (name == "success") {
    if (state_ != State::kAuth) return;
    state_ = State::kRestart;
    transport_->restart();
    return;
  }
  if (name == "failure") {
    fail("sasl_failure:" + first_child_name(stanza));
    return;
  }
  if (name == "error") {  // stream:error
    fail("stream_error:" + first_child_name(stanza));
    return;
  }
  // presence and anything else: a real client would update its UI; nothing to do.
}

void XmppClient::on_features(const pugi::xml_node& features) {
  if (state_ == State::kAuth || state_ == State::kOpening) {
    const Options& o = *env_.options;
    const char* wanted = o.sasl == SaslMech::kPlain ? "PLAIN" : "ANONYMOUS";
    bool offered = false;
    for (const pugi::xml_node& m : child_named(features, "mechanisms").children()) {
      if (std::strcmp(m.child_value(), wanted) == 0) offered = true;
    }
    if (!offered) {
      fail(std::string("sasl_not_offered:") + wanted);
      return;
    }
    state_ = State::kAuth;
    std::string auth = "<auth xmlns='urn:ietf:params:xml:ns:xmpp-sasl' mechanism='";
    auth += wanted;
    if (o.sasl == SaslMech::kPlain) {
      std::string plain;
      plain += '\0';
      plain += expand_pattern(o.user_pattern, number_);
      plain += '\0';
      plain += expand_pattern(o.password, number_);
      auth += "'>" + base64(plain) + "</auth>";
    } else {
      auth += "'/>";
    }
    transport_->send(std::move(auth));
    return;
  }
  if (state_ == State::kRestart) {
    if (!child_named(features, "bind")) {
      fail("no_bind_feature");
      return;
    }
    const pugi::xml_node session = child_named(features, "session");
    session_required_ = session && !child_named(session, "optional");
    state_ = State::kBind;
    std::string bind =
        "<iq type='set' id='bind_1' xmlns='jabber:client'><bind "
        "xmlns='urn:ietf:params:xml:ns:xmpp-bind'>";
    if (!env_.options->resource.empty()) {
      bind += "<resource>";
      xml::append_escaped_text(bind, env_.options->resource);
      bind += "</resource>";
    }
    bind += "</bind></iq>";
    transport_->send(std::move(bind));
  }
}

void XmppClient::on_iq(const pugi::xml_node& iq) {
  const std::string_view type = iq.attribute("type").as_string();
  const std::string_view id = iq.attribute("id").as_string();
  if (type == "get" || type == "set") {
    // A server's ping (XEP-0199) or a query: answer as a client library would.
    std::string answer = "<iq xmlns='jabber:client' type='";
    answer += type == "get" && child_named(iq, "ping") ? "result" : "error";
    answer += "' id='";
    xml::append_escaped_attribute(answer, id);
    answer += "' to='";
    xml::append_escaped_attribute(answer, iq.attribute("from").as_string());
    answer += type == "get" && child_named(iq, "ping")
                  ? "'/>"
                  : "'><error type='cancel'><service-unavailable "
                    "xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/></error></iq>";
    transport_->send(std::move(answer));
    return;
  }
  if (type == "error") {
    fail(std::string(id == "bind_1"   ? "bind_error"
                     : id == "sess_1" ? "session_error"
                                      : "iq_error") +
         ":" + first_child_name(child_named(iq, "error")));
    return;
  }
  if (id == "bind_1" && state_ == State::kBind) {
    jid_ = child_named(child_named(iq, "bind"), "jid").child_value();
    if (jid_.empty()) {
      fail("bind_error:no_jid");
      return;
    }
    if (session_required_) {
      state_ = State::kSession;
      transport_->send(
          "<iq type='set' id='sess_1' xmlns='jabber:client'><session "
          "xmlns='urn:ietf:params:xml:ns:xmpp-session'/></iq>");
      return;
    }
    go_online();
  } else if (id == "sess_1" && state_ == State::kSession) {
    go_online();
  } else if (id == "roster_1" && state_ == State::kRoster) {
    become_online();
  }
}

void XmppClient::go_online() {
  if (env_.options->roster) {
    state_ = State::kRoster;
    // Two sends: over WebSocket each element is a message of its own (RFC 7395
    // §3.3.3); over BOSH they leave together in the next request.
    transport_->send(
        "<iq type='get' id='roster_1' xmlns='jabber:client'><query "
        "xmlns='jabber:iq:roster'/></iq>");
    transport_->send("<presence xmlns='jabber:client'/>");
    return;
  }
  transport_->send("<presence xmlns='jabber:client'/>");
  become_online();
}

// The one way into kOnline, with or without --roster: the transport hears it
// first (WsTransport plans its --drop cut then), then the Runner counts it.
void XmppClient::become_online() {
  state_ = State::kOnline;
  if (transport_->refusals() > 0) ++env_.interval.tally.logins_refused_then_in;
  transport_->on_online();
  observer_->on_online(*this);
}

void XmppClient::send_chat(const std::string& to, std::string_view body) {
  if (state_ != State::kOnline) return;
  std::string m = "<message xmlns='jabber:client' type='chat' to='";
  xml::append_escaped_attribute(m, to);
  m += "'><body>";
  xml::append_escaped_text(m, body);
  m += "</body></message>";
  transport_->send(std::move(m));
}

void XmppClient::close() {
  if (state_ == State::kEnded || state_ == State::kClosing || state_ == State::kIdle) return;
  state_ = State::kClosing;
  transport_->close("<presence xmlns='jabber:client' type='unavailable'/>");
}

void XmppClient::fail(std::string_view kind) {
  env_.interval.tally.error(kind);
  failed_ = true;
  state_ = State::kClosing;
  transport_->close("");
}

void XmppClient::on_ended(std::string_view error) {
  const bool was_closing = state_ == State::kClosing;
  state_ = State::kEnded;
  // Errors while we close (our own or after fail()) are not news. A --drop cut
  // of a WebSocket session is the run's own doing: counted as ended, not as an error.
  if (!error.empty() && !was_closing && error != kDropEnd) env_.interval.tally.error(error);
  if (was_closing) error = failed_ ? std::string_view("failed") : std::string_view();
  observer_->on_client_ended(*this, error);
}

}  // namespace sb::soak
