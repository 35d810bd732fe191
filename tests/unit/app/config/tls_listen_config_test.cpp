// tls_listen, tls_cert_file and tls_key_file: parsing, the format_config round
// trip, and validate_config's checks of the files (what --check-config prints).
#include "app/printing.hpp"

#include <string>
#include <vector>

#include "app/config/config.hpp"
#include "app/config/config_file.hpp"
#include "app/config/config_reload.hpp"
#include "net/tls_test_peer.hpp"

using sb::app::apply_setting;
using sb::app::Config;
using sb::base::HostPort;

namespace {
Config runnable() {
  Config config;
  config.upstream = HostPort{"localhost", 5222};
  return config;
}

bool mentions(const std::vector<std::string>& problems, const std::string& text) {
  for (const std::string& problem : problems) {
    if (problem.find(text) != std::string::npos) return true;
  }
  return false;
}
}  // namespace

TEST_CASE("tls_listen: empty by default, an IP literal and port, empty again") {
  Config config = runnable();
  CHECK_FALSE(config.tls_listen.has_value());
  CHECK_FALSE(apply_setting(config, "tls_listen", "[::]:5281"));
  REQUIRE(config.tls_listen.has_value());
  CHECK(*config.tls_listen == HostPort{"::", 5281});
  auto error = apply_setting(config, "tls_listen", "chat.example.org:443");
  REQUIRE(error.has_value());
  CHECK(error->find("'tls_listen' must be an IP address and port") == 0);
  CHECK_FALSE(apply_setting(config, "tls_listen", ""));
  CHECK_FALSE(config.tls_listen.has_value());
}

TEST_CASE("the TLS listener keys survive format_config") {
  Config config = runnable();
  REQUIRE_FALSE(apply_setting(config, "tls_listen", "127.0.0.1:5281"));
  REQUIRE_FALSE(apply_setting(config, "tls_cert_file", "/etc/ssl/chain.pem"));
  REQUIRE_FALSE(apply_setting(config, "tls_key_file", "/etc/ssl/key.pem"));
  const std::string text = sb::app::format_config(config);
  CHECK(text.find("tls_listen = \"127.0.0.1:5281\"\n") != std::string::npos);
  CHECK(text.find("tls_cert_file = \"/etc/ssl/chain.pem\"\n") != std::string::npos);
  Config back;
  std::vector<std::string> errors;
  CHECK(sb::app::parse_config_text(text, "formatted", back, errors));
  CHECK(errors == std::vector<std::string>{});
  CHECK(back == config);
}

TEST_CASE("validate_config: tls_listen needs a loadable, matching certificate and key") {
  sb::net::test::TestPki pki;
  const auto [cert, key] = pki.server_files();
  const auto [other_cert, other_key] = pki.server_files(true);
  Config config = runnable();
  config.tls_listen = HostPort{"127.0.0.1", 5281};

  auto problems = sb::app::validate_config(config);
  CHECK(mentions(problems, "'tls_cert_file' is required with 'tls_listen'"));
  CHECK(mentions(problems, "'tls_key_file' is required with 'tls_listen'"));

  config.tls_cert_file = "/nonexistent/chain.pem";
  config.tls_key_file = key;
  problems = sb::app::validate_config(config);
  CHECK(mentions(problems, "'tls_cert_file' '/nonexistent/chain.pem': No such file or directory"));

  config.tls_cert_file = cert;
  config.tls_key_file = other_key;
  problems = sb::app::validate_config(config);
  CHECK(mentions(problems, "'tls_listen': cannot load the private key"));

  config.tls_key_file = cert;  // a certificate where the key should be
  CHECK(mentions(sb::app::validate_config(config), "cannot load the private key"));

  config.tls_key_file = key;
  CHECK(sb::app::validate_config(config).empty());

  config.tls_listen = config.listen;
  CHECK(mentions(sb::app::validate_config(config), "'tls_listen' and 'listen' must differ"));

  Config no_listener = runnable();
  no_listener.tls_cert_file = cert;
  CHECK(mentions(sb::app::validate_config(no_listener), "need 'tls_listen'"));
  (void)other_cert;
}

TEST_CASE("tls_ticket_rotation: 3600 s by default, 0 to 3.5 days, a restart to change") {
  Config config = runnable();
  CHECK(config.tls_ticket_rotation == 3600);
  CHECK_FALSE(apply_setting(config, "tls_ticket_rotation", "0"));
  CHECK(config.tls_ticket_rotation == 0);
  CHECK_FALSE(apply_setting(config, "tls_ticket_rotation", "302400"));
  CHECK(config.tls_ticket_rotation == 302400);
  // Two periods must fit into TLS 1.3's seven days.
  CHECK(apply_setting(config, "tls_ticket_rotation", "302401").has_value());
  CHECK(apply_setting(config, "tls_ticket_rotation", "-1").has_value());
  Config loaded = config;
  loaded.tls_ticket_rotation = 60;
  const auto plan = sb::app::plan_reload(config, loaded);
  CHECK(plan.restart == std::vector<std::string>{"tls_ticket_rotation"});
  CHECK(plan.next.tls_ticket_rotation == 302400);
}
