// UpstreamLink: one XMPP client-to-server stream over TCP, the bosh::Upstream of a
// session. It connects (with a timeout), sends the stream header, frames what the
// server sends into stanzas (xml::StanzaFramer), fixes their namespaces for a BOSH
// <body/>, removes <starttls/> from the features, and reports to the session.
//
// Ownership: the session owns the link through a unique_ptr until it calls
// close(); from then on the link owns itself, finishes the stream politely
// (</stream:stream>, then waits briefly for the server's own close) and frees
// itself. If the session is destroyed without close() (after the link reported its
// own end), the destructor hands the socket to a handler that just lets it close.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "bosh/upstream.hpp"
#include "net/tcp_stream.hpp"
#include "net/timer_wheel.hpp"
#include "xml/namespace_fixup.hpp"
#include "xml/stanza_framer.hpp"

namespace sb::net {
class ConnectAttempt;
}

namespace sb::xmpp {

struct LinkSettings {
  std::uint64_t connect_timeout_ms = 10'000;
  std::uint64_t close_timeout_ms = 5'000;  // wait for the server's </stream:stream>
  std::size_t max_stanza_bytes = 256 * 1024;
};

class UpstreamLink final : public bosh::Upstream,
                           private net::StreamHandler,
                           private xml::FramerSink {
 public:
  UpstreamLink(uv_loop_t* loop, const LinkSettings& settings, const bosh::UpstreamTarget& target,
               bosh::UpstreamEvents& events);
  ~UpstreamLink() override;

  // bosh::Upstream
  void send(std::string_view bytes) override;
  void restart(const bosh::UpstreamTarget& target) override;
  void close() override;

 private:
  enum class State : std::uint8_t { kConnecting, kOpen, kClosing, kDone };

  void connected(int status, net::TcpStream* stream);
  void report_end(bosh::Condition condition, std::string&& detail);
  void write(std::string bytes);
  static void on_timer(net::TimerNode& node);

  // net::StreamHandler
  void on_read(net::TcpStream& stream, std::string_view bytes) override;
  void on_read_end(net::TcpStream& stream, int status) override;
  void on_write_error(net::TcpStream& stream, int status) override;
  void on_closed(net::TcpStream& stream) override;
  // xml::FramerSink
  void stream_opened(std::string_view open_tag) override;
  void stanza(std::string&& bytes) override;
  void stream_closed() override;
  void framing_error(std::string_view what) override;

  uv_loop_t* loop_;
  const LinkSettings& settings_;
  bosh::UpstreamEvents* events_;  // null once the session no longer listens
  net::ConnectAttempt* attempt_ = nullptr;
  net::TcpStream* stream_ = nullptr;
  xml::StanzaFramer framer_;
  xml::StreamNamespaces namespaces_;
  std::string pending_;  // bytes sent before the connection was up
  net::TimerNode timer_;  // the close timeout (the connect timeout is the connector's)
  State state_ = State::kConnecting;
  bool owns_itself_ = false;  // close() was called: we free ourselves
};

class UpstreamConnector final : public bosh::UpstreamFactory {
 public:
  UpstreamConnector(uv_loop_t* loop, LinkSettings settings)
      : loop_(loop), settings_(settings) {}
  std::unique_ptr<bosh::Upstream> open(const bosh::UpstreamTarget& target,
                                       bosh::UpstreamEvents& events) override;

 private:
  uv_loop_t* loop_;
  LinkSettings settings_;
};

}  // namespace sb::xmpp
