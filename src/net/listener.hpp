// Listener: a listening TCP socket on the loop. SO_REUSEPORT is set so that every
// worker process can listen on the same address and the kernel spreads new
// connections among them.
//
// The socket is watched with a uv_poll_t and accepted with accept4() here, not with
// uv_listen: a libuv listener cannot stop watching its socket, so it could neither
// pause without holding an accepted connection nor back off on EMFILE (libuv then
// drops the whole backlog, or calls back in a tight loop when its spare fd is gone).
// With a poll handle, pause() stops watching and the kernel backlog holds the
// connections until resume(); on EMFILE/ENFILE/ENOBUFS/ENOMEM accepting stops for
// kBackoffMs and then resumes by itself.
//
// pause() is right for a moment's breath, wrong for a worker that is full: with
// SO_REUSEPORT the kernel hashes every new connection to one listener's queue at
// SYN time, so connections keep arriving in a queue nobody reads. suspend() closes
// the socket instead: the kernel stops choosing it at once, and with the sysctl
// net.ipv4.tcp_migrate_req=1 it moves the connections already queued to the other
// listeners of the port (without it they are reset, and clients retry). reopen()
// binds and listens again on the same address. Each socket gets its own poll
// handle (a poll handle cannot move to another descriptor), freed in its close
// callback, so reopening never waits for the loop.
#pragma once

#include <sys/socket.h>
#include <uv.h>

#include <cstdint>
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
  // The listener must have been closed (close() and the loop run). If it was not,
  // the destructor closes it and runs the loop (UV_RUN_NOWAIT) until libuv lets go
  // of the handles, so never destroy an open Listener inside a libuv callback.
  ~Listener();

  // Binds "ip:port" (IPv4 or [IPv6]:port, numeric only, port 0 = any) with
  // SO_REUSEADDR and SO_REUSEPORT and listens. Returns 0 or a negative UV_E* error;
  // `error` gets a readable message. Only one successful listen() per Listener.
  int listen(const std::string& address, int backlog, std::string& error);
  // Listens on a socket another process bound and listened on (an upgrade in
  // place: the same socket, with its queue, so no connection is refused or
  // reset). `address` is the one it was listened on, for reopen() and messages.
  // Takes `fd` (closed on failure).
  int listen_inherited(int fd, const std::string& address, std::string& error);
  // The listening socket's descriptor (-1 when not listening), to pass it on.
  int fd() const { return fd_; }
  // The port actually bound (useful with port 0); 0 when not listening.
  int bound_port() const;
  // Stops accepting (e.g. near the fd limit) and resumes. Pending connections wait
  // in the kernel backlog meanwhile. Both may be called before listen().
  void pause();
  void resume();
  // Closes the listening socket now but keeps the address for reopen() (see the
  // top of this file). Only while listening; otherwise nothing happens.
  void suspend();
  // Listens again on the address of listen() after suspend(). Returns 0 or a
  // negative UV_E* error (the listener then stays suspended; try again later).
  int reopen(std::string& error);
  bool listening() const { return state_ == State::kListening; }
  bool suspended() const { return state_ == State::kSuspended; }
  // Closes the socket at once (the port is free when close() returns); the handles
  // are released on the next loop run. Idempotent.
  void close();
  // True once close() was called and libuv has released the handles.
  bool closed() const { return state_ == State::kClosed; }

  static constexpr std::uint64_t kBackoffMs = 100;  // pause after running out of fds
  static constexpr int kAcceptBatch = 64;           // accepts per wake-up, for fairness

 private:
  enum class State { kIdle, kListening, kSuspended, kClosing, kClosed };
  static void on_readable(uv_poll_t* poll, int status, int events);
  static void on_backoff_end(uv_timer_t* timer);
  static void on_handle_closed(uv_handle_t* handle);
  int open_socket(std::string& error);
  int watch_socket(int fd, std::string& error);
  void start_listening();
  void close_socket();
  void accept_some();
  void adopt(int fd);
  void back_off();
  void update_polling();

  uv_poll_t* poll_ = nullptr;  // watches fd_; one per socket, freed in its close callback
  uv_timer_t backoff_{};       // ends an EMFILE back-off
  uv_loop_t* loop_;
  AcceptFn on_accept_;
  sockaddr_storage addr_{};  // what the socket is bound to, for reopen()
  std::string address_;      // as given to listen(), for messages
  int backlog_ = 0;
  int fd_ = -1;
  State state_ = State::kIdle;
  int handles_open_ = 0;  // poll handles and backoff_ until their close callbacks ran
  bool paused_ = false;
  bool backing_off_ = false;
  bool polling_ = false;
};

}  // namespace sb::net
