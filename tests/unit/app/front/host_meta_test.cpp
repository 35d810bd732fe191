// XEP-0156 host-meta documents: the links, the public URLs, escaping, and which
// Host values are echoed.
#include "app/printing.hpp"

#include "app/front/header_text.hpp"
#include "app/front/host_meta.hpp"

using sb::app::HostMeta;
using sb::app::HostMetaUrls;
using sb::app::plain_host;

namespace {
HostMetaUrls urls() { return {"/http-bind", "/xmpp-websocket", "", "", "127.0.0.1:5280", ""}; }
}  // namespace

TEST_CASE("host-meta: XRD and JRD name both endpoints from the Host") {
  const HostMeta meta(urls());
  CHECK(meta.xrd("chat.example:5280") ==
        "<?xml version='1.0' encoding='utf-8'?>\n"
        "<XRD xmlns='http://docs.oasis-open.org/ns/xri/xrd-1.0'>\n"
        "  <Link rel='urn:xmpp:alt-connections:xbosh' href='http://chat.example:5280/http-bind'/>\n"
        "  <Link rel='urn:xmpp:alt-connections:websocket' "
        "href='ws://chat.example:5280/xmpp-websocket'/>\n"
        "</XRD>\n");
  CHECK(meta.jrd("[::1]:80") ==
        "{\"links\":[{\"rel\":\"urn:xmpp:alt-connections:xbosh\",\"href\":\"http://[::1]:80/"
        "http-bind\"},"
        "{\"rel\":\"urn:xmpp:alt-connections:websocket\",\"href\":\"ws://[::1]:80/"
        "xmpp-websocket\"}]}\n");
}

TEST_CASE("host-meta: public URLs win, are escaped, and WebSocket can be off") {
  HostMetaUrls u = urls();
  u.public_bosh_url = "https://a.example/b?x=1&y=2";
  u.public_websocket_url = "wss://a.example/w\\x";
  const HostMeta meta(u);
  CHECK(meta.xrd("ignored").find("href='https://a.example/b?x=1&amp;y=2'") != std::string::npos);
  CHECK(meta.jrd("ignored").find("\"wss://a.example/w\\\\x\"") != std::string::npos);
  u.websocket_path.clear();
  const HostMeta bosh_only(u);
  CHECK(bosh_only.xrd("h").find("websocket") == std::string::npos);
  CHECK(bosh_only.jrd("h").find("websocket") == std::string::npos);
}

TEST_CASE("host-meta: only a plain host[:port] is echoed") {
  CHECK(plain_host("chat.example.com"));
  CHECK(plain_host("127.0.0.1:5280"));
  CHECK(plain_host("[::1]:5280"));
  CHECK_FALSE(plain_host(""));
  CHECK_FALSE(plain_host("a b"));
  CHECK_FALSE(plain_host("x'/><y"));
  CHECK_FALSE(plain_host("x\"y"));
  CHECK_FALSE(plain_host(std::string(300, 'a')));
}

TEST_CASE("host-meta: a request that came over https gets https:// and wss:// URLs") {
  const HostMeta meta(urls());
  CHECK(meta.bosh_url("chat.example:5281", true) == "https://chat.example:5281/http-bind");
  CHECK(meta.websocket_url("chat.example:5281", true) == "wss://chat.example:5281/xmpp-websocket");
  CHECK(meta.bosh_url("chat.example:5280", false) == "http://chat.example:5280/http-bind");
  CHECK(meta.websocket_url("chat.example:5280", false) == "ws://chat.example:5280/xmpp-websocket");
  CHECK(meta.xrd("h", true).find("href='https://h/http-bind'") != std::string::npos);
  CHECK(meta.jrd("h", true).find("\"wss://h/xmpp-websocket\"") != std::string::npos);
  // Configured public URLs win over the scheme, either way.
  HostMetaUrls u = urls();
  u.public_bosh_url = "http://public.example/b";
  u.public_websocket_url = "ws://public.example/w";
  const HostMeta configured(u);
  CHECK(configured.bosh_url("h", true) == "http://public.example/b");
  CHECK(configured.websocket_url("h", true) == "ws://public.example/w");
}
