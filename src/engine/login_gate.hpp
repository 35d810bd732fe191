// LoginGate: overload control (app/process/login_pacer.hpp), shared by both
// transports: asked before each login starts (a BOSH creation, a WebSocket
// upgrade).
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>

namespace sb::engine {

class LoginGate {
 public:
  enum class Verdict : std::uint8_t {
    kAdmit,   // start it now
    kQueue,   // let it wait its turn (the caller keeps it; admit_queued() says when)
    kRefuse,  // the worker cannot finish it in time: HTTP 503 with retry_after_s
  };
  struct Decision {
    Verdict verdict = Verdict::kAdmit;
    std::uint32_t retry_after_s = 0;
  };
  // `waiting`: logins the caller holds in its queue already; `can_queue`: whether
  // the caller can hold this one.
  virtual Decision decide(std::size_t waiting, bool can_queue) = 0;
  // The next queued login's turn: true (it is admitted) if it may start now.
  virtual bool admit_queued() = 0;
  // `fn` is called, from a timer and never while a request is being dispatched,
  // whenever queued logins may start; one listener.
  virtual void on_room(std::function<void()> fn) = 0;

 protected:
  ~LoginGate() = default;
};

}  // namespace sb::engine
