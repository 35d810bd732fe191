// validate_config: the rules that tie keys together, and the checks that read the
// files a configuration names (TLS certificate and key with OpenSSL, the CA file,
// the demo folder, the log file), so that a wrong path stops the start or refuses
// a reload instead of failing at the first connection. See config.hpp.
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "app/config/config.hpp"
#include "app/config/config_text.hpp"
#include "net/tls_server_context.hpp"

namespace sb::app {

using config_text::format_size;
using config_text::quoted;

namespace {

// tls_listen needs both files, readable and matching; they are loaded here, so a
// wrong path or a key for another certificate stops the start (and --check-config).
void check_tls_listener(const Config& config, std::vector<std::string>& problems) {
  if (!config.tls_listen) {
    if (!config.tls_cert_file.empty() || !config.tls_key_file.empty()) {
      problems.push_back("'tls_cert_file' and 'tls_key_file' need 'tls_listen'");
    }
    return;
  }
  if (*config.tls_listen == config.listen) {
    problems.push_back("'tls_listen' and 'listen' must differ (both are " +
                       quoted(config.listen.to_string()) + ")");
  }
  bool files_ok = true;
  for (const auto& [key, file] : {std::pair{"tls_cert_file", &config.tls_cert_file},
                                  std::pair{"tls_key_file", &config.tls_key_file}}) {
    if (file->empty()) {
      problems.push_back(quoted(key) + " is required with 'tls_listen'");
      files_ok = false;
      continue;
    }
    struct stat info {};
    if (::stat(file->c_str(), &info) != 0 || ::access(file->c_str(), R_OK) != 0) {
      problems.push_back(quoted(key) + " " + quoted(*file) + ": " + std::strerror(errno));
      files_ok = false;
    } else if (!S_ISREG(info.st_mode)) {
      problems.push_back(quoted(key) + " " + quoted(*file) + " is not a file");
      files_ok = false;
    }
  }
  if (!files_ok) return;
  if (auto error = net::TlsServerContext::check_files(config.tls_cert_file, config.tls_key_file)) {
    problems.push_back("'tls_listen': " + *error);
  }
}

}  // namespace

std::vector<std::string> validate_config(const Config& config) {
  std::vector<std::string> problems;
  if (config.default_wait > config.max_wait) {
    problems.push_back("'default_wait' (" + std::to_string(config.default_wait) +
                       ") must not exceed 'max_wait' (" + std::to_string(config.max_wait) + ")");
  }
  if (config.polling > 0 && config.inactivity <= config.polling) {
    // XEP-0124: a polling client waits `polling` seconds between requests, so
    // an inactivity that short would end every polling session.
    problems.push_back("'inactivity' (" + std::to_string(config.inactivity) +
                       ") must be longer than 'polling' (" + std::to_string(config.polling) + ")");
  }
  if (config.max_session_queue_bytes < config.max_stanza_bytes) {
    problems.push_back("'max_session_queue_bytes' (" + format_size(config.max_session_queue_bytes) +
                       ") must be at least 'max_stanza_bytes' (" +
                       format_size(config.max_stanza_bytes) + "): one whole stanza must fit");
  }
  if (config.websocket_path == config.bosh_path) {
    problems.push_back("'websocket_path' and 'bosh_path' must differ (both are " +
                       quoted(config.bosh_path) + ")");
  }
  if (!config.upstream && config.domain_upstreams.empty() && config.allowed_routes.empty()) {
    problems.push_back(
        "no XMPP server configured: set 'upstream', an 'upstream.<domain>' or 'allowed_routes'");
  }
  if (config.metrics_listen && config.metrics_listen->port != 0 &&
      *config.metrics_listen == config.listen) {
    problems.push_back("'metrics_listen' must not be the 'listen' address (" +
                       config.listen.to_string() + ")");
  }
  if (config.agent_listen && config.agent_listen->port != 0 &&
      (*config.agent_listen == config.listen ||
       (config.metrics_listen && *config.agent_listen == *config.metrics_listen))) {
    problems.push_back(
        "'agent_listen' must be an address of its own (not 'listen' or "
        "'metrics_listen')");
  }
  if (!config.demo_root.empty()) {
    struct stat info {};
    if (::stat(config.demo_root.c_str(), &info) != 0) {
      problems.push_back("'demo_root' " + quoted(config.demo_root) + ": " + std::strerror(errno));
    } else if (!S_ISDIR(info.st_mode)) {
      problems.push_back("'demo_root' " + quoted(config.demo_root) + " is not a directory");
    }
  }
  if (!config.upstream_tls_ca_file.empty()) {
    // Checked here, not at the first TLS connection, so a typo stops the start.
    struct stat info {};
    const char* file = config.upstream_tls_ca_file.c_str();
    if (::stat(file, &info) != 0 || ::access(file, R_OK) != 0) {
      problems.push_back("'upstream_tls_ca_file' " + quoted(config.upstream_tls_ca_file) + ": " +
                         std::strerror(errno));
    } else if (!S_ISREG(info.st_mode)) {
      problems.push_back("'upstream_tls_ca_file' " + quoted(config.upstream_tls_ca_file) +
                         " is not a file");
    }
  }
  if (!config.log_file.empty()) {
    // Opened (and created) here as it will be at start, so that a directory that
    // does not exist or is not writable stops the start, or refuses a reload.
    const int fd = ::open(config.log_file.c_str(), O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0640);
    if (fd < 0) {
      problems.push_back("'log_file' " + quoted(config.log_file) + ": " + std::strerror(errno));
    } else {
      ::close(fd);
    }
  }
  check_tls_listener(config, problems);
  return problems;
}

}  // namespace sb::app
