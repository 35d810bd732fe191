// UpstreamConnector: the worker's engine::UpstreamFactory, which opens an
// UpstreamLink for each session, and LinkSettings, what those links read. The
// connector owns what a worker's links share: the settings, the TLS client context
// (made the first time a link needs TLS), one copy of a server's stream
// declarations, the list of live links closed at shutdown, and the throttle on the
// connect-failure lines of the log. A header of its own so that the app layer can
// build and hold the connector, and fill in the settings, without the link's
// insides; the link itself is upstream_link.hpp.
#pragma once

#include <uv.h>

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "base/local_shared.hpp"
#include "engine/upstream.hpp"
#include "net/tls_context.hpp"
#include "xml/namespace_fixup.hpp"
#include "xmpp/link_observer.hpp"
#include "xmpp/tls_mode.hpp"

namespace sb::net {
class SourcePool;
}

namespace sb::xmpp {

class UpstreamLink;

struct LinkSettings {
  // Connect, negotiate TLS and get the stream header, all within this.
  std::uint64_t connect_timeout_ms = 10'000;
  std::uint64_t close_timeout_ms = 5'000;  // wait for the server's </stream:stream>
  std::size_t max_stanza_bytes = 256 * 1024;
  // Bytes for the server not yet taken by the kernel; beyond, the server is not
  // reading and the session ends with remote-connection-failed.
  std::size_t max_unsent_bytes = 1 << 20;
  TlsMode tls = TlsMode::kAuto;
  // Under `auto`, also take up an optional STARTTLS offer from a server on loopback
  // (normally declined: see UpstreamLink::accept_features).
  bool tls_on_loopback = false;
  net::TlsClientOptions tls_client;  // certificate verification, CA file
  // Local addresses to connect from (upstream_source_addresses); null = the kernel
  // picks. Owned by the worker, outlives every link.
  net::SourcePool* sources = nullptr;
  // Told why a link ended where the BOSH client only learns remote-connection-failed
  // (TLS refused or rejected, ...), for the log. May be null.
  void (*report)(std::string_view message) = nullptr;
  // Told of connects, bytes and stanzas, for metrics. May be null.
  LinkObserver* observer = nullptr;
  // 1 or 2: every connection starts with a PROXY protocol header of that version
  // naming the session's client (upstream_proxy_protocol); 0: none.
  int proxy_protocol = 0;
};

// Opens links; one per worker. It owns what the worker's links share: their
// settings and the TLS client context, made the first time a link needs TLS (a
// worker whose servers never offer it never loads a trust store).
class UpstreamConnector final : public engine::UpstreamFactory {
 public:
  UpstreamConnector(uv_loop_t* loop, LinkSettings settings);
  ~UpstreamConnector();
  std::unique_ptr<engine::Upstream> open(const engine::UpstreamTarget& target,
                                         engine::UpstreamEvents& events,
                                         engine::StanzaFraming framing) override;

  const LinkSettings& settings() const { return settings_; }
  // A reload: new limits (connect timeout, stanza and backlog bounds) for what
  // links do from now on. TLS settings, the source pool and the report hook stay:
  // links in the middle of a negotiation read them, and the TLS context is shared.
  void update_limits(const LinkSettings& next);
  uv_loop_t* loop() const { return loop_; }
  // At shutdown: closes the sockets of every live link, including links still
  // waiting for a server's </stream:stream>, so that each frees itself before
  // the loop ends instead of leaking.
  void close_all();
  void attach(UpstreamLink& link);
  void detach(UpstreamLink& link);
  // Links alive: connecting, open, or finishing their close.
  std::size_t live_count() const { return live_count_; }
  // Null, with the reason in `error`, if OpenSSL refused to build the context
  // (remembered: a bad CA file is not reloaded for every session).
  const net::TlsContext* tls_context(std::string& error);
  // One shared copy of a server's stream declarations for the links that read the
  // same ones (all links to one server, in practice): ~90 bytes each otherwise.
  base::LocalShared<xml::StreamNamespaces> share_namespaces(xml::StreamNamespaces&& namespaces);
  // A connect to an XMPP server failed with `status`: told to the observer, and
  // said in the log (through LinkSettings::report) at most once every
  // kConnectFailureLogMs, with how many more failed meanwhile, and with the remedy
  // when the local ports ran out.
  void connect_failed(int status);
  static constexpr std::uint64_t kConnectFailureLogMs = 10'000;

 private:
  uv_loop_t* loop_;
  std::uint64_t last_failure_log_ms_ = 0;
  std::uint64_t failures_unlogged_ = 0;
  LinkSettings settings_;
  std::unique_ptr<net::TlsContext> tls_context_;
  std::string tls_error_;
  base::LocalShared<xml::StreamNamespaces> last_namespaces_;
  UpstreamLink* live_ = nullptr;  // intrusive list through prev_live/next_live
  std::size_t live_count_ = 0;
};

}  // namespace sb::xmpp
