// Transport: how a simulated client's XMPP stanzas reach the server and back,
// behind one small interface so that the login and chat logic (XmppClient) does
// not know whether it speaks BOSH (XEP-0124/0206, BoshTransport) or, later,
// WebSocket (RFC 7395): both open a stream, carry stanzas both ways, restart the
// stream after SASL and close it.
#pragma once

#include <pugixml.hpp>

#include <string>
#include <string_view>

namespace sb::soak {

class TransportEvents {
 public:
  // The stream is open (BOSH: the session creation answer came).
  virtual void on_open() = 0;
  // One top-level element from the server (stream:features, message, iq, ...).
  virtual void on_stanza(const pugi::xml_node& stanza) = 0;
  // The stream has ended. `error` is empty after a close we asked for, else the
  // error kind counted in the report ("http_404", "terminate:policy-violation", ...).
  virtual void on_ended(std::string_view error) = 0;

 protected:
  ~TransportEvents() = default;
};

class Transport {
 public:
  virtual ~Transport() = default;
  virtual void open() = 0;
  // Queues a serialized stanza; the transport decides when it goes out.
  virtual void send(std::string stanza) = 0;
  // The stream restart after SASL success.
  virtual void restart() = 0;
  // Ends the stream, `last` (e.g. unavailable presence) sent with the close.
  virtual void close(std::string last) = 0;
  // The client has logged in (bound, presence sent): the session is online.
  virtual void on_online() {}
  // How many times the server refused this login (5xx to the creation or the
  // upgrade) before it let it in or the client gave up (refusal.hpp).
  virtual unsigned refusals() const { return 0; }
  // True while the stanzas of an answer are being handled after those of a newer
  // one (the Strophe profile handles answers as they come): a message of it that
  // was overtaken is the client's own reordering, not the server's.
  virtual bool handling_late_answer() const { return false; }
  // Requests written and not yet answered (for the report and tests).
  virtual unsigned outstanding() const = 0;
  // One line on the requests in flight, for SOAK_DEBUG.
  virtual std::string debug_state() const = 0;
};

}  // namespace sb::soak
