// A stub worker process: loop set-up, accepting under the fd budget, signals and a
// clean stop. See worker.hpp.
#include "tools/stub/worker.hpp"

#include <dirent.h>
#include <sys/random.h>
#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>

#include "net/listener.hpp"
#include "net/loop_context.hpp"
#include "net/tcp_stream.hpp"
#include "tools/stub/c2s_session.hpp"
#include "tools/stub/log.hpp"
#include "tools/stub/mesh.hpp"

namespace sb::stub {
namespace {

constexpr int kBacklog = 4096;  // the kernel caps it at net.core.somaxconn

std::size_t count_open_fds() {
  std::size_t count = 0;
  if (DIR* dir = ::opendir("/proc/self/fd")) {
    while (const dirent* entry = ::readdir(dir)) {
      if (entry->d_name[0] != '.') ++count;
    }
    ::closedir(dir);
    if (count > 0) --count;  // the directory's own descriptor
  }
  return count;
}

void report_ready(int& fd, char what) {
  if (fd < 0) return;
  [[maybe_unused]] const ssize_t n = ::write(fd, &what, 1);
  ::close(fd);
  fd = -1;
}

}  // namespace

Worker::Worker(const Options& options, std::size_t index, std::vector<int> mesh_fds, int ready_fd)
    : options_(options),
      index_(index),
      mesh_fds_(std::move(mesh_fds)),
      ready_fd_(ready_fd),
      router_(index, options.procs) {
  std::uint64_t seed = 0;
  if (::getrandom(&seed, sizeof seed, 0) != static_cast<ssize_t>(sizeof seed)) {
    const auto pid = static_cast<std::uint64_t>(static_cast<unsigned>(::getpid()));
    seed = pid * std::uint64_t{0x9e3779b97f4a7c15};
  }
  random_state_ = seed | 1;
}

Worker::~Worker() = default;

std::string Worker::next_stream_id() {
  char buf[40];
  std::snprintf(buf, sizeof buf, "p%zu-%llx", index_,
                static_cast<unsigned long long>(++stream_counter_));
  return buf;
}

std::string Worker::random_token() {
  // xorshift64*: unpredictability does not matter, uniqueness across the run does
  // (64 bits from a random seed per process).
  random_state_ ^= random_state_ >> 12;
  random_state_ ^= random_state_ << 25;
  random_state_ ^= random_state_ >> 27;
  char buf[24];
  std::snprintf(buf, sizeof buf, "%016llx",
                static_cast<unsigned long long>(random_state_ * 2685821657736338717ull));
  return buf;
}

int Worker::run() {
  set_log_name("p" + std::to_string(index_));
  set_log_level(options_.log_level);
  if (uv_loop_init(&loop_) != 0) {
    log(LogLevel::kError, "cannot create the event loop");
    report_ready(ready_fd_, 'F');
    return 1;
  }
  context_ = std::make_unique<net::LoopContext>(&loop_);
  mesh_ = std::make_unique<Mesh>(&loop_, index_, mesh_fds_, router_);
  router_.set_mesh(mesh_.get());
  listener_ = std::make_unique<net::Listener>(&loop_, [this](net::TcpStream& s) { on_accept(s); });
  std::string error;
  const std::string address = listen_address(options_.listen_host, options_.listen_port);
  if (listener_->listen(address, kBacklog, error) != 0) {
    log(LogLevel::kError, "cannot listen on " + address + ": " + error);
    report_ready(ready_fd_, 'F');
    stop();
    uv_run(&loop_, UV_RUN_DEFAULT);
    net::close_remaining_handles(&loop_);
    return 1;
  }
  uv_signal_init(&loop_, &sigterm_);
  uv_signal_init(&loop_, &sigint_);
  sigterm_.data = this;
  sigint_.data = this;
  uv_signal_start(&sigterm_, on_signal, SIGTERM);
  uv_signal_start(&sigint_, on_signal, SIGINT);

  rlimit limit{};
  ::getrlimit(RLIMIT_NOFILE, &limit);
  const std::size_t hard_cap =
      limit.rlim_cur > 200 ? static_cast<std::size_t>(limit.rlim_cur) - 100 : 100;
  fd_high_ = std::min(options_.fd_limit, hard_cap);
  base_fds_ = count_open_fds();
  log(LogLevel::kDebug, "listening on " + address + " (" + std::to_string(base_fds_) +
                            " fds open, accepting up to " + std::to_string(fd_high_) + ")");
  report_ready(ready_fd_, 'R');

  uv_run(&loop_, UV_RUN_DEFAULT);
  net::close_remaining_handles(&loop_);
  const RouterStats& stats = router_.stats();
  log(LogLevel::kInfo, "stopped: " + std::to_string(accepted_) + " connections accepted, peak " +
                           std::to_string(peak_sessions_) + " at once; stanzas delivered " +
                           std::to_string(stats.delivered_local) + ", via directory " +
                           std::to_string(stats.sent_to_directory) + ", to owner " +
                           std::to_string(stats.sent_to_owner) + ", bounced " +
                           std::to_string(stats.bounced) + ", dropped " +
                           std::to_string(stats.dropped));
  listener_.reset();
  mesh_.reset();
  context_.reset();
  return uv_loop_close(&loop_) == 0 ? 0 : 1;
}

void Worker::on_accept(net::TcpStream& stream) {
  if (stopping_) {
    stream.close();
    return;
  }
  auto* session = new C2sSession(*this, stream);
  ++accepted_;
  ++sessions_;
  peak_sessions_ = std::max(peak_sessions_, sessions_);
  update_accepting();
  session->start();  // on failure the stream closes and session_closed() follows
}

void Worker::session_closed(C2sSession* session) {
  delete session;
  --sessions_;
  update_accepting();
}

void Worker::update_accepting() {
  if (stopping_ || !listener_) return;
  const std::size_t open = base_fds_ + sessions_;
  if (!paused_ && open >= fd_high_) {
    paused_ = true;
    listener_->pause();
    log(LogLevel::kWarn, "fd budget reached: " + std::to_string(open) +
                             " descriptors open (limit " + std::to_string(fd_high_) +
                             "); not accepting until some close");
  } else if (paused_ && open + resume_gap() <= fd_high_) {
    paused_ = false;
    listener_->resume();
    log(LogLevel::kInfo, "accepting again: " + std::to_string(open) + " descriptors open");
  }
}

// Resume a little below the mark, so a worker at its budget does not flip between
// paused and accepting with every connection: 100 fds, less for a tiny --fd-limit.
std::size_t Worker::resume_gap() const { return std::clamp<std::size_t>(fd_high_ / 20, 1, 100); }

void Worker::on_signal(uv_signal_t* handle, int /*signum*/) {
  static_cast<Worker*>(handle->data)->stop();
}

// Closes everything: the listener first (no new sessions), then every TCP handle on
// the loop, which are the sessions and the mesh links. Each session frees itself in
// its close callback, so uv_run returns once the last one is gone.
void Worker::stop() {
  if (stopping_) return;
  stopping_ = true;
  if (listener_) listener_->close();
  if (mesh_) mesh_->close();
  uv_walk(
      &loop_,
      [](uv_handle_t* handle, void*) {
        // Every TCP handle here is a TcpStream's (sessions, mesh links).
        if (handle->type == UV_TCP && uv_is_closing(handle) == 0) {
          net::TcpStream::of_handle(handle)->close();
        }
      },
      nullptr);
  if (uv_is_active(reinterpret_cast<uv_handle_t*>(&sigterm_)) != 0) {
    uv_close(reinterpret_cast<uv_handle_t*>(&sigterm_), nullptr);
    uv_close(reinterpret_cast<uv_handle_t*>(&sigint_), nullptr);
  }
}

}  // namespace sb::stub
