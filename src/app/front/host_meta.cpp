// XEP-0156 host-meta documents; see host_meta.hpp.
#include "app/front/host_meta.hpp"

#include "app/front/header_text.hpp"  // plain_host
#include "xml/escape.hpp"

namespace sb::app {
namespace {

constexpr std::string_view kXbosh = "urn:xmpp:alt-connections:xbosh";
constexpr std::string_view kWebSocket = "urn:xmpp:alt-connections:websocket";

void append_json_string(std::string& out, std::string_view text) {
  out += '"';
  for (char c : text) {
    if (c == '"' || c == '\\') out += '\\';
    out += c;
  }
  out += '"';
}

}  // namespace

std::string HostMeta::bosh_url(std::string_view host, bool secure) const {
  if (!urls_.public_bosh_url.empty()) return urls_.public_bosh_url;
  return (secure ? "https://" : "http://") + std::string(host) + urls_.bosh_path;
}

std::string HostMeta::websocket_url(std::string_view host, bool secure) const {
  if (!urls_.public_websocket_url.empty()) return urls_.public_websocket_url;
  return (secure ? "wss://" : "ws://") + std::string(host) + urls_.websocket_path;
}

std::string HostMeta::xrd(std::string_view host, bool secure) const {
  std::string out =
      "<?xml version='1.0' encoding='utf-8'?>\n"
      "<XRD xmlns='http://docs.oasis-open.org/ns/xri/xrd-1.0'>\n";
  const auto link = [&out](std::string_view rel, const std::string& href) {
    out += "  <Link rel='";
    out += rel;
    out += "' href='";
    xml::append_escaped_attribute(out, href);
    out += "'/>\n";
  };
  link(kXbosh, bosh_url(host, secure));
  if (!urls_.websocket_path.empty()) link(kWebSocket, websocket_url(host, secure));
  out += "</XRD>\n";
  return out;
}

std::string HostMeta::jrd(std::string_view host, bool secure) const {
  std::string out = "{\"links\":[";
  const auto link = [&out](std::string_view rel, const std::string& href, bool first) {
    if (!first) out += ',';
    out += "{\"rel\":";
    append_json_string(out, rel);
    out += ",\"href\":";
    append_json_string(out, href);
    out += '}';
  };
  link(kXbosh, bosh_url(host, secure), true);
  if (!urls_.websocket_path.empty()) link(kWebSocket, websocket_url(host, secure), false);
  out += "]}\n";
  return out;
}

void HostMeta::handle(http::Request& request, http::Exchange& exchange) {
  const http::RequestHead* head = request.head.get();
  std::string_view host;
  if (head != nullptr) host = head->public_host.empty() ? head->host : head->public_host;
  const bool secure = head != nullptr && head->secure;
  if (!plain_host(host)) {
    host =
        secure && !urls_.tls_fallback_host.empty() ? urls_.tls_fallback_host : urls_.fallback_host;
  }
  if (request.path == kJrdPath) {
    exchange.send(http::Response::text(200, "application/json", jrd(host, secure)));
  } else {
    exchange.send(
        http::Response::text(200, "application/xrd+xml; charset=utf-8", xrd(host, secure)));
  }
}

}  // namespace sb::app
