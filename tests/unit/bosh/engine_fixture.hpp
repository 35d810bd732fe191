// A BOSH engine (Endpoint + SessionTable) on a hand-driven clock, with helpers to
// post bodies and read the answers.
#pragma once

#include <deque>
#include <memory>
#include <string>

#include "base/timer_wheel.hpp"
#include "bosh/endpoint.hpp"
#include "bosh/fakes.hpp"
#include "bosh/session.hpp"
#include "bosh/session_table.hpp"
#include "bosh/settings.hpp"
#include "xml/open_tag.hpp"

namespace sb::test {

struct Engine {
  bosh::EngineSettings settings;
  engine::SessionCounts counts{settings};
  base::TimerWheel wheel{1'000'000};
  FakeFactory upstreams;
  // Declared before the table: sessions still holding exchanges answer them when
  // the table is destroyed.
  std::deque<std::unique_ptr<FakeExchange>> exchanges;
  std::unique_ptr<bosh::SessionTable> table;
  std::unique_ptr<bosh::Endpoint> endpoint;

  Engine() {
    settings.default_upstream = {"127.0.0.1", 5222};
    build();
  }
  void build() {
    table = std::make_unique<bosh::SessionTable>(settings, wheel, counts);
    endpoint = std::make_unique<bosh::Endpoint>(*table, upstreams);
  }
  FakeExchange& post(const std::string& body, const std::string& peer = "127.0.0.1") {
    exchanges.push_back(std::make_unique<FakeExchange>());
    http::Request request;
    request.peer = peer;
    request.method = http::Method::kPost;
    request.path = "/http-bind";
    request.body = body;
    endpoint->handle(request, *exchanges.back());
    table->collect();
    return *exchanges.back();
  }
  void advance_seconds(double seconds) {
    wheel.advance(wheel.now_ms() + static_cast<std::uint64_t>(seconds * 1000));
    table->collect();
  }
  // Creates a session (rid 1000) whose server has sent its features; returns sid.
  std::string open_session(const std::string& extra = "wait='60' hold='1'") {
    FakeExchange& ex = post(
        "<body xmlns='http://jabber.org/protocol/httpbind' xmlns:xmpp='urn:xmpp:xbosh' rid='1000' "
        "to='example.com' xml:lang='en' ver='1.6' xmpp:version='1.0' " +
        extra + "/>");
    upstreams.server_opens();
    return attr(ex.body(), "sid");
  }
  static std::string attr(const std::string& body, const std::string& name) {
    return xml::find_attribute(body, name).value_or("");
  }
  static std::string req(const std::string& sid, std::uint64_t rid, const std::string& inner = "",
                         const std::string& extra = "") {
    std::string b = "<body xmlns='http://jabber.org/protocol/httpbind' sid='" + sid + "' rid='" +
                    std::to_string(rid) + "' " + extra;
    return inner.empty() ? b + "/>" : b + ">" + inner + "</body>";
  }
};

}  // namespace sb::test
