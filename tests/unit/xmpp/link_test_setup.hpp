// What the UpstreamLink tests over loopback share: the link settings they run
// with, the target of the fake server, and a substring check.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "engine/upstream.hpp"
#include "net/tls_test_peer.hpp"
#include "xmpp/upstream_connector.hpp"

namespace sb::xmpp::test {

inline LinkSettings link_settings(TlsMode mode, const net::test::TestPki& pki, bool verify,
                                  std::uint64_t timeout_ms) {
  LinkSettings settings;
  settings.connect_timeout_ms = timeout_ms;
  settings.close_timeout_ms = 500;
  settings.tls = mode;
  // The fake server listens on loopback, where `auto` would decline its optional
  // offer; the TLS tests are about TLS, so take it up (one test checks the default).
  settings.tls_on_loopback = true;
  settings.tls_client.verify_peer = verify;
  settings.tls_client.ca_file = pki.ca_file();
  return settings;
}

inline engine::UpstreamTarget loopback_target(std::uint16_t port,
                                              std::string domain = "localhost") {
  engine::UpstreamTarget t;
  t.host = "127.0.0.1";
  t.port = port;
  t.to = std::move(domain);
  return t;
}

inline bool has(const std::string& haystack, std::string_view needle) {
  return haystack.find(needle) != std::string::npos;
}

}  // namespace sb::xmpp::test
