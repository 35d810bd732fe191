// The TLS keys (upstream_tls, upstream_tls_verify, upstream_tls_ca_file): values,
// messages, the CA file rule of validate_config, the format_config round trip, and
// how link_settings() hands them to the xmpp layer.
#include "app/printing.hpp"

#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <string>

#include "app/config/config.hpp"
#include "app/process/engine_settings.hpp"

using sb::app::apply_setting;
using sb::app::Config;
using sb::base::HostPort;
using sb::xmpp::TlsMode;

namespace {
Config runnable() {
  Config config;
  config.upstream = HostPort{"localhost", 5222};
  return config;
}
}  // namespace

TEST_CASE("upstream_tls: auto by default, four modes, anything else refused") {
  Config c;
  CHECK(c.upstream_tls == TlsMode::kAuto);
  CHECK(c.upstream_tls_verify);
  CHECK(c.upstream_tls_ca_file.empty());
  for (auto [text, mode] : {std::pair{"auto", TlsMode::kAuto},
                            {"required", TlsMode::kRequired},
                            {"off", TlsMode::kOff},
                            {"direct", TlsMode::kDirect}}) {
    CHECK(apply_setting(c, "upstream_tls", text) == std::nullopt);
    CHECK(c.upstream_tls == mode);
  }
  Config untouched;
  CHECK(apply_setting(untouched, "upstream_tls", "yes") ==
        "'upstream_tls' must be one of auto, required, off, direct, got 'yes'");
  const Config defaults;  // named, not a temporary: see config_file_test.cpp
  CHECK(untouched == defaults);
}

TEST_CASE("upstream_tls_verify: true or false") {
  Config c;
  CHECK(apply_setting(c, "upstream_tls_verify", "false") == std::nullopt);
  CHECK_FALSE(c.upstream_tls_verify);
  CHECK(apply_setting(c, "upstream_tls_verify", "true") == std::nullopt);
  CHECK(c.upstream_tls_verify);
  CHECK(apply_setting(c, "upstream_tls_verify", "0") ==
        "'upstream_tls_verify' must be true or false, got '0'");
}

TEST_CASE("upstream_tls_ca_file must be a readable file") {
  Config c = runnable();
  CHECK(apply_setting(c, "upstream_tls_ca_file", "/nonexistent/ca.pem") == std::nullopt);
  CHECK(sb::app::validate_config(c) ==
        std::vector<std::string>{
            "'upstream_tls_ca_file' '/nonexistent/ca.pem': No such file or directory"});
  CHECK(apply_setting(c, "upstream_tls_ca_file", "/tmp") == std::nullopt);
  CHECK(sb::app::validate_config(c) ==
        std::vector<std::string>{"'upstream_tls_ca_file' '/tmp' is not a file"});
  char path[] = "/tmp/sb-tls-config-XXXXXX";
  const int fd = mkstemp(path);
  REQUIRE(fd >= 0);
  close(fd);
  CHECK(apply_setting(c, "upstream_tls_ca_file", path) == std::nullopt);
  CHECK(sb::app::validate_config(c) == std::vector<std::string>{});
  std::remove(path);
  CHECK(apply_setting(c, "upstream_tls_ca_file", "") == std::nullopt);
  CHECK(sb::app::validate_config(c) == std::vector<std::string>{});
}

TEST_CASE("the TLS keys survive format_config and reach the link settings") {
  Config c = runnable();
  REQUIRE(apply_setting(c, "upstream_tls", "direct") == std::nullopt);
  REQUIRE(apply_setting(c, "upstream_tls_verify", "false") == std::nullopt);
  REQUIRE(apply_setting(c, "upstream_tls_ca_file", "/etc/ssl/private-ca.pem") == std::nullopt);
  const std::string text = sb::app::format_config(c);
  CHECK(text.find("upstream_tls = \"direct\"\n") != std::string::npos);
  CHECK(text.find("upstream_tls_verify = false\n") != std::string::npos);
  CHECK(text.find("upstream_tls_ca_file = \"/etc/ssl/private-ca.pem\"\n") != std::string::npos);

  const sb::xmpp::LinkSettings link = sb::app::link_settings(c);
  CHECK(link.tls == TlsMode::kDirect);
  CHECK_FALSE(link.tls_client.verify_peer);
  CHECK(link.tls_client.ca_file == "/etc/ssl/private-ca.pem");
  const bool reports = link.report != nullptr;  // (doctest cannot print a function pointer)
  CHECK(reports);
}
