// UpstreamConnector: the worker's factory of links and what they share (see
// upstream_connector.hpp): the list of live links, the shared stream declarations,
// the TLS client context made on first use, and the connect-failure lines of the
// log, said at most once every kConnectFailureLogMs. The links themselves are
// upstream_link.cpp and upstream_link_tls.cpp.
#include "xmpp/upstream_connector.hpp"

#include "xmpp/upstream_link.hpp"

namespace sb::xmpp {

UpstreamConnector::UpstreamConnector(uv_loop_t* loop, LinkSettings settings)
    : loop_(loop), settings_(std::move(settings)) {}

UpstreamConnector::~UpstreamConnector() = default;

void UpstreamConnector::connect_failed(int status) {
  if (settings_.observer != nullptr) settings_.observer->link_connect_failed();
  ++failures_unlogged_;
  const std::uint64_t now = uv_now(loop_);
  if (settings_.report == nullptr ||
      (last_failure_log_ms_ != 0 && now - last_failure_log_ms_ < kConnectFailureLogMs)) {
    return;
  }
  last_failure_log_ms_ = now;
  std::string message = std::string("cannot connect to the XMPP server: ") + uv_strerror(status);
  if (failures_unlogged_ > 1) {
    message +=
        " (" + std::to_string(failures_unlogged_) + " connects failed since the last such line)";
  }
  if (status == UV_EADDRNOTAVAIL) {
    // One local address reaches one server address from ~28,000 ports (the
    // kernel's ip_local_port_range): the ceiling of every loopback scale run.
    message +=
        "; the local ports are used up: set upstream_source_addresses to connect from "
        "more addresses (docs/configuration.md)";
  }
  failures_unlogged_ = 0;
  settings_.report(message);
}

void UpstreamConnector::update_limits(const LinkSettings& next) {
  settings_.connect_timeout_ms = next.connect_timeout_ms;
  settings_.close_timeout_ms = next.close_timeout_ms;
  settings_.max_stanza_bytes = next.max_stanza_bytes;
  settings_.max_unsent_bytes = next.max_unsent_bytes;
}

void UpstreamConnector::attach(UpstreamLink& link) {
  link.prev_live = nullptr;
  link.next_live = live_;
  if (live_ != nullptr) live_->prev_live = &link;
  live_ = &link;
  ++live_count_;
}

void UpstreamConnector::detach(UpstreamLink& link) {
  if (link.prev_live != nullptr) link.prev_live->next_live = link.next_live;
  if (link.next_live != nullptr) link.next_live->prev_live = link.prev_live;
  if (live_ == &link) live_ = link.next_live;
  link.prev_live = link.next_live = nullptr;
  --live_count_;
}

void UpstreamConnector::close_all() {
  // Closing a socket frees its link only in the close callback, on a later loop
  // turn, so the list is not changed under this walk.
  for (UpstreamLink* link = live_; link != nullptr; link = link->next_live)
    link->close_socket_now();
}

std::unique_ptr<engine::Upstream> UpstreamConnector::open(const engine::UpstreamTarget& target,
                                                          engine::UpstreamEvents& events,
                                                          engine::StanzaFraming framing) {
  return std::make_unique<UpstreamLink>(loop_, *this, target, events, framing);
}

base::LocalShared<xml::StreamNamespaces> UpstreamConnector::share_namespaces(
    xml::StreamNamespaces&& namespaces) {
  const auto same = [&](const xml::StreamNamespaces& n) {
    return n.default_ns == namespaces.default_ns && n.stream_prefix == namespaces.stream_prefix &&
           n.other_prefixes == namespaces.other_prefixes;
  };
  if (!last_namespaces_ || !same(*last_namespaces_)) {
    last_namespaces_ = base::LocalShared<xml::StreamNamespaces>::make(std::move(namespaces));
  }
  return last_namespaces_;
}

const net::TlsContext* UpstreamConnector::tls_context(std::string& error) {
  if (!tls_context_ && tls_error_.empty()) {
    tls_context_ = net::TlsContext::create_client(settings_.tls_client, tls_error_);
  }
  error = tls_error_;
  return tls_context_.get();
}

}  // namespace sb::xmpp
