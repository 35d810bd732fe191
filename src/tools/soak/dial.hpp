// Dial: the generator's outgoing TCP connect to the target, from the next
// source address of the range when one is set (--source), shared by the BOSH
// connection and the WebSocket transport.
//
// The connect request lives only while it is in flight, so an open or idle
// connection carries nothing for it; an owner that gives up meanwhile abandons
// it, and libuv's callback then frees it without calling back.
#pragma once

#include "net/tcp_stream.hpp"

namespace sb::soak {

struct Env;

class Dial {
 public:
  // Called once with the owner and libuv's status (0: connected), unless abandoned.
  using Done = void (*)(void* owner, int status);

  // Starts connecting `stream` to env.target. On success `out` holds the dial in
  // flight and 0 is returned; otherwise a libuv error, and nothing is in flight.
  static int start(Env& env, net::TcpStream& stream, void* owner, Done done, Dial*& out);

  // The owner gives up: `dial` (if any) will not call back; it is cleared.
  static void abandon(Dial*& dial);

 private:
  static void on_connect(uv_connect_t* req, int status);
  uv_connect_t req_{};
  void* owner_ = nullptr;
  Done done_ = nullptr;
};

// Closes `stream` (if any) without further events to its handler, and clears it.
void close_stream(net::TcpStream*& stream);

}  // namespace sb::soak
