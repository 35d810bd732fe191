// CreationGate: asked before every new session of either transport (a BOSH
// creation, a WebSocket upgrade). False means this process has no room for another
// session (app/process/admission.hpp: its file descriptors). For a BOSH creation
// the gate may then take the request elsewhere (redirect_new_session: hand its
// connection to a worker with room); if it does not, or for an upgrade (which must
// be answered on its own connection), the request is answered HTTP 503 with
// Retry-After, so the client tries again.
#pragma once

namespace sb::http {
struct Request;  // http/exchange.hpp: only passed on, never read here
}

namespace sb::engine {

class CreationGate {
 public:
  virtual bool admits_new_session() = 0;
  // True if the gate took `request` (and its connection) away; the endpoint then
  // answers nothing.
  virtual bool redirect_new_session(http::Request& request) = 0;

 protected:
  ~CreationGate() = default;
};

}  // namespace sb::engine
