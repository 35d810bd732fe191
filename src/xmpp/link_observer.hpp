// LinkObserver: what upstream links report for metrics (app/metrics_recorder.hpp),
// so xmpp/ counts nothing itself. One observer per worker, in LinkSettings; null
// = nobody listens. The calls are cheap virtual calls on paths that already do a
// system call or parse XML.
#pragma once

#include <cstddef>
#include <cstdint>

namespace sb::xmpp {

class LinkObserver {
 public:
  // The TCP connection to the server is up, `micros` after the link was opened
  // (name resolution included).
  virtual void link_connected(std::uint64_t micros) = 0;
  // The connection could not be made (refused, unresolvable, timed out).
  virtual void link_connect_failed() = 0;
  // Bytes on the wire (TLS records included) to and from the server.
  virtual void link_bytes_sent(std::size_t bytes) = 0;
  virtual void link_bytes_received(std::size_t bytes) = 0;
  // One top-level element from the server delivered to its session.
  virtual void link_stanza_received() = 0;

 protected:
  ~LinkObserver() = default;
};

}  // namespace sb::xmpp
