// HttpSocket: one accepted TCP connection serving HTTP. It glues a net::TcpStream
// (bytes in and out) to an http::Connection (requests and ordered responses): it is
// the stream's handler and the connection's Transport.
//
// It owns itself: it is freed when the socket is closed (on_closed), which is the
// only moment the Connection can be destroyed with none of its frames on the stack.
// The worker keeps all live sockets on an intrusive list so it can close them at
// shutdown.
#pragma once

#include <memory>
#include <string>

#include "http/connection.hpp"
#include "http/transport.hpp"
#include "net/tcp_stream.hpp"
#include "net/timer_wheel.hpp"

namespace sb::app {

class HttpSocketList;

class HttpSocket final : private net::StreamHandler, private http::Transport {
 public:
  struct Shared {  // what all sockets of a worker use
    http::Handler& handler;
    const http::ConnectionLimits& limits;
    const http::CorsPolicy& cors;
    net::TimerWheel& wheel;
    HttpSocketList& list;
  };
  // Takes over an accepted stream and starts reading.
  static void adopt(net::TcpStream& stream, Shared& shared);
  // Closes the socket now (shutdown).
  void close_now();

  HttpSocket* prev = nullptr;  // HttpSocketList links
  HttpSocket* next = nullptr;

 private:
  HttpSocket(net::TcpStream& stream, Shared& shared);
  ~HttpSocket();

  // net::StreamHandler
  void on_read(net::TcpStream& stream, std::string_view bytes) override;
  void on_read_end(net::TcpStream& stream, int status) override;
  void on_drained(net::TcpStream& stream) override;
  void on_write_error(net::TcpStream& stream, int status) override;
  void on_closed(net::TcpStream& stream) override;
  // http::Transport
  void write(std::string head, std::shared_ptr<const std::string> body) override;
  void close() override;
  void pause_reading() override;
  void resume_reading() override;
  std::size_t queued_bytes() const override;

  static void on_linger(net::TimerNode& node);

  net::TcpStream& stream_;
  Shared& shared_;
  std::unique_ptr<http::Connection> connection_;
  net::TimerNode linger_;  // bounds the flush before a close
  bool close_when_drained_ = false;
};

// The live sockets of a worker.
class HttpSocketList {
 public:
  void insert(HttpSocket& socket);
  void remove(HttpSocket& socket);
  void close_all();
  std::size_t size() const { return size_; }

 private:
  HttpSocket* head_ = nullptr;
  std::size_t size_ = 0;
};

}  // namespace sb::app
