// Dial: see dial.hpp.
#include "tools/soak/dial.hpp"

#include "tools/soak/env.hpp"
#include "tools/soak/source_addresses.hpp"

namespace sb::soak {

int Dial::start(Env& env, net::TcpStream& stream, void* owner, Done done, Dial*& out) {
  int rc = 0;
  if (!env.sources.empty()) {
    const int fd = open_bound_socket(env.sources.next());
    rc = fd < 0 ? fd : uv_tcp_open(stream.handle(), fd);
  }
  if (rc != 0) return rc;
  auto* dial = new Dial;
  dial->owner_ = owner;
  dial->done_ = done;
  dial->req_.data = dial;
  rc = uv_tcp_connect(&dial->req_, stream.handle(), reinterpret_cast<const sockaddr*>(&env.target),
                      on_connect);
  if (rc != 0) {
    delete dial;
    return rc;
  }
  out = dial;
  return 0;
}

void Dial::abandon(Dial*& dial) {
  if (dial == nullptr) return;
  dial->owner_ = nullptr;  // its callback frees it
  dial = nullptr;
}

void Dial::on_connect(uv_connect_t* req, int status) {
  auto* dial = static_cast<Dial*>(req->data);
  void* owner = dial->owner_;
  const Done done = dial->done_;
  delete dial;
  if (owner != nullptr) done(owner, status);
}

void close_stream(net::TcpStream*& stream) {
  if (stream == nullptr) return;
  stream->set_handler(nullptr);
  stream->close();
  stream = nullptr;
}

}  // namespace sb::soak
