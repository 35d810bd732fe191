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

  // A login's opening, for overload control (app/login_pacer.hpp): a link starts
  // opening when it is made and ends it once, `millis` later: with the server's
  // first stream header (kOpened), with a failure on the server's side (no
  // connection, no header in time, the server closed: kFailed), or because its
  // session went first (kAbandoned).
  enum class OpenOutcome : std::uint8_t { kOpened, kFailed, kAbandoned };
  virtual void link_opening() {}
  virtual void link_open_ended(OpenOutcome /*outcome*/, std::uint64_t /*millis*/) {}

 protected:
  ~LinkObserver() = default;
};

}  // namespace sb::xmpp
