// Listener: a listening TCP socket on the loop. SO_REUSEPORT is set so that every
// worker process can listen on the same address and the kernel spreads new
// connections among them.
#pragma once

#include <uv.h>

#include <functional>
#include <string>

namespace sb::net {

class TcpStream;

class Listener {
 public:
  // Called for each accepted connection; the callee sets the stream's handler and
  // starts reading. The stream is open and owned by itself (see TcpStream).
  using AcceptFn = std::function<void(TcpStream& stream)>;

  Listener(uv_loop_t* loop, AcceptFn on_accept);
  Listener(const Listener&) = delete;
  Listener& operator=(const Listener&) = delete;
  ~Listener();  // the listener must have been closed (close() and the loop run)

  // Binds "ip:port" (IPv4 or [IPv6]:port) with SO_REUSEPORT and listens.
  // Returns 0 or a negative UV_E* error; `error` gets a readable message.
  int listen(const std::string& address, int backlog, std::string& error);
  // The port actually bound (useful with port 0).
  int bound_port() const;
  // Stops accepting (e.g. near the fd limit) and resumes.
  void pause();
  void resume();
  void close();

 private:
  static void on_connection(uv_stream_t* server, int status);
  uv_tcp_t tcp_{};
  uv_loop_t* loop_;
  AcceptFn on_accept_;
  bool open_ = false;
  bool paused_ = false;
};

}  // namespace sb::net
