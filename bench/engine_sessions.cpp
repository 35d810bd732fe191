// bench_engine_sessions: the cost of the BOSH engine alone (bosh/ + xml/), with no
// sockets. N sessions are created through bosh::Endpoint with in-memory exchanges
// and upstreams and brought to the steady state of an idle browser: two long polls
// have expired empty and a third is held. It prints
//   - user-space memory per idle session: RSS delta / N, the baseline being the
//     RSS of this process before the first session (this benchmark's own
//     exchange objects are allocated before the baseline);
//   - the same after malloc_trim(0): what of that RSS is heap glibc holds free (the
//     peak of creation, when every session's creation response was still cached,
//     not yet handed back to the system), as opposed to what the sessions use;
//   - the cost of one poll cycle (server data answers the held request, the
//     client's next empty poll is parsed, ordered and held) as a ratio to parsing
//     the same request body alone with pugixml, measured in the same run.
// Run by hand: build/bench/bench_engine_sessions [sessions]   (default 200000)
#include <malloc.h>
#include <pugixml.hpp>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <memory>
#include <string>
#include <vector>

#include "base/object_pool.hpp"
#include "base/timer_wheel.hpp"
#include "bosh/endpoint.hpp"
#include "bosh/session_table.hpp"
#include "bosh/settings.hpp"
#include "engine/upstream.hpp"
#include "xml/open_tag.hpp"

namespace {

using Clock = std::chrono::steady_clock;

long rss_kib() {
  std::ifstream status("/proc/self/status");
  std::string line;
  while (std::getline(status, line)) {
    if (line.rfind("VmRSS:", 0) == 0) return std::atol(line.c_str() + 6);
  }
  return -1;
}

// An HTTP exchange that keeps only the last body it was answered with.
struct BenchExchange final : sb::http::Exchange {
  sb::http::SharedBody body;
  void send(sb::http::Response r) override { body = std::move(r.body); }
};

// Pooled like the daemon's xmpp::UpstreamLink, so that it does not sit between the
// creation-time temporaries on the general heap, which the daemon's links do not.
struct NullUpstream final : sb::engine::Upstream, sb::base::Pooled<NullUpstream> {
  void send(std::string_view) override {}
  void restart(const sb::engine::UpstreamTarget&) override {}
  void close() override { delete this; }
};

struct Factory final : sb::engine::UpstreamFactory {
  std::vector<sb::engine::UpstreamEvents*> events;
  std::unique_ptr<sb::engine::Upstream> open(const sb::engine::UpstreamTarget&,
                                             sb::engine::UpstreamEvents& e,
                                             sb::engine::StanzaFraming) override {
    events.push_back(&e);
    return std::make_unique<NullUpstream>();
  }
};

std::string poll_body(const std::string& sid, std::uint64_t rid) {
  return "<body xmlns='http://jabber.org/protocol/httpbind' sid='" + sid + "' rid='" +
         std::to_string(rid) + "'/>";
}

}  // namespace

int main(int argc, char** argv) {
  const std::size_t n = argc > 1 ? std::strtoul(argv[1], nullptr, 10) : 200000;
  sb::bosh::EngineSettings settings;
  settings.default_upstream = {"127.0.0.1", 5222};
  settings.inactivity = 600;
  sb::base::TimerWheel wheel(0);
  Factory factory;
  factory.events.reserve(n);
  // Two exchanges per session, used in turn; allocated before the baseline, and
  // declared before the table, which answers the held ones when it goes.
  std::vector<BenchExchange> exchanges(2 * n);
  sb::engine::SessionCounts counts(settings);
  sb::bosh::SessionTable table(settings, wheel, counts);
  sb::bosh::Endpoint endpoint(table, factory);
  std::vector<std::string> sids(n);
  for (auto& sid : sids) sid.reserve(32);
  std::string scratch;

  auto post = [&](std::string body, BenchExchange& exchange) {
    sb::http::Request request;
    request.method = sb::http::Method::kPost;
    request.body = std::move(body);
    endpoint.handle(request, exchange);
  };
  const long base_kib = rss_kib();
  const struct mallinfo2 base_info = mallinfo2();
  const std::size_t base_heap = base_info.uordblks;

  const std::string create =
      "<body xmlns='http://jabber.org/protocol/httpbind' xmlns:xmpp='urn:xmpp:xbosh' rid='1000' "
      "to='example.com' xml:lang='en' ver='1.6' wait='60' hold='1' xmpp:version='1.0'/>";
  const std::string features =
      "<stream:features xmlns='jabber:client'><bind xmlns='urn:ietf:params:xml:ns:xmpp-bind'/>"
      "<session "
      "xmlns='urn:ietf:params:xml:ns:xmpp-session'><optional/></session></stream:features>";
  for (std::size_t i = 0; i < n; ++i) {
    post(create, exchanges[2 * i]);
    auto* events = factory.events.back();
    events->upstream_opened({"stream" + std::to_string(i), "example.com", "1.0"});
    events->upstream_stanza(std::string(features));
    events->upstream_batch_end();
    sids[i] = sb::xml::find_attribute(*exchanges[2 * i].body, "sid").value_or("");
    exchanges[2 * i].body.reset();
  }
  // Two polls that expire empty after `wait`, then one held: an idle session.
  std::uint64_t rid = 1001;
  for (int round = 0; round < 3; ++round, ++rid) {
    for (std::size_t i = 0; i < n; ++i) post(poll_body(sids[i], rid), exchanges[2 * i + (rid & 1)]);
    if (round < 2) wheel.advance(wheel.now_ms() + 61'000);
  }
  for (auto& e : exchanges) e.body.reset();
  const long idle_kib = rss_kib();
  const struct mallinfo2 idle_info = mallinfo2();
  const std::size_t idle_heap = idle_info.uordblks;
  malloc_trim(0);
  const long trimmed_kib = rss_kib();
  if (table.size() != n) {
    std::fprintf(stderr, "expected %zu live sessions, have %zu\n", n, table.size());
    return 1;
  }

  // Speed: poll cycles over all sessions (data answers the held poll, the next
  // poll is held), against parsing the same body with pugixml alone.
  const std::string message =
      "<message xmlns='jabber:client' from='a@example.com/r' to='b@example.com/r' "
      "type='chat' id='m1'><body>hello</body></message>";
  const std::size_t cycles = n;
  const auto engine_start = Clock::now();
  for (std::size_t c = 0; c < cycles; ++c) {
    const std::size_t i = c % n;
    factory.events[i]->upstream_stanza(std::string(message));
    factory.events[i]->upstream_batch_end();
    post(poll_body(sids[i], rid), exchanges[2 * i + (rid & 1)]);
  }
  const double engine_ns =
      std::chrono::duration<double, std::nano>(Clock::now() - engine_start).count() /
      static_cast<double>(cycles);

  const auto parse_start = Clock::now();
  std::size_t checksum = 0;
  for (std::size_t c = 0; c < cycles; ++c) {
    scratch = poll_body(sids[c % n], rid);
    pugi::xml_document doc;
    doc.load_buffer(scratch.data(), scratch.size());
    checksum += doc.first_child().attribute("rid").as_ullong();
  }
  const double parse_ns =
      std::chrono::duration<double, std::nano>(Clock::now() - parse_start).count() /
      static_cast<double>(cycles);

  std::printf("bench_engine_sessions: %zu idle sessions (bosh engine alone, no sockets)\n", n);
  std::printf("  RSS before sessions (baseline)   %8ld KiB\n", base_kib);
  std::printf("  RSS with idle sessions           %8ld KiB\n", idle_kib);
  std::printf("  per idle session                 %8.0f bytes\n",
              static_cast<double>(idle_kib - base_kib) * 1024.0 / static_cast<double>(n));
  std::printf("  of which live heap (malloc)      %8.0f bytes\n",
              static_cast<double>(idle_heap - base_heap) / static_cast<double>(n));
  std::printf("  per idle session after malloc_trim %6.0f bytes\n",
              static_cast<double>(trimmed_kib - base_kib) * 1024.0 / static_cast<double>(n));
  std::printf(
      "  heap free inside the arena       %8.0f bytes (malloc's fordblks)\n",
      static_cast<double>(idle_info.fordblks - base_info.fordblks) / static_cast<double>(n));
  std::printf("  mmapped blocks (bucket arrays)   %8.0f bytes\n",
              static_cast<double>(idle_info.hblkhd - base_info.hblkhd) / static_cast<double>(n));
  std::printf("  poll cycle (data out, poll in)   %8.0f ns\n", engine_ns);
  std::printf("  pugixml parse of the poll alone  %8.0f ns (baseline)\n", parse_ns);
  std::printf("  ratio cycle / parse              %8.2f\n", engine_ns / parse_ns);
  std::printf("  poll cycles per second, one core %8.0f\n", 1e9 / engine_ns);
  return checksum == 0 ? 1 : 0;
}
