// bench_request_load: the client of bench/request_path.js, a wrk-like load
// generator that speaks just enough BOSH for the three request paths measured
// there. One thread, plain epoll, keep-alive connections, one request in flight
// per connection (no pipelining), every answer read in full and checked (HTTP
// 200, not a terminate body). wrk itself can repeat a fixed request, but not
// follow a session's rid from one request to the next on a given connection, nor
// pair a held poll with the message that releases it, hence this file.
//
//   build/bench/bench_request_load --connect IP:PORT --mode repeat|message|pair
//       --sessions FILE --seconds S
//
// FILE holds one unit per line:
//   repeat   "sid rid"                     the same request again and again: the
//                                          session's rid `rid`, an empty body (the
//                                          bare responder gets exactly these bytes too)
//   message  "sid rid peer"                each request a new rid carrying a
//                                          <message/> to the JID `peer`
//   pair     "sidA ridA sidB ridB jidA"    two connections per unit; a round is A's
//                                          empty poll (held: A has hold=1), then B's
//                                          message to A, which releases it; the next
//                                          round starts when both are answered
// In the message and pair modes the next rids are written back to FILE at the end,
// so that a later run goes on with the same sessions. After S seconds no new request
// starts; those in flight are awaited (at most 5 s). Prints one JSON line:
// {"responses":N,"errors":E,"wall":s,"cpu":s} (cpu: this process's user+system).
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

namespace {

using Clock = std::chrono::steady_clock;

enum class Mode { kRepeat, kMessage, kPair };

struct Unit;

// One keep-alive connection with at most one request in flight.
struct Conn {
  int fd = -1;
  Unit* unit = nullptr;
  std::string out;
  std::size_t out_done = 0;
  std::string in;
  bool busy = false;  // a request was sent and its answer is not complete
};

struct Unit {
  std::string sid_a, sid_b, peer;
  unsigned long long rid_a = 0, rid_b = 0;
  Conn a, b;        // b only in pair mode
  int waiting = 0;  // answers this round still owes
};

Mode mode;
std::string host;
unsigned long long responses = 0, errors = 0;
int epoll_fd = -1;
bool stopping = false;

std::string http_post(const std::string& body) {
  return "POST /http-bind HTTP/1.1\r\nHost: " + host +
         "\r\nContent-Type: text/xml; charset=utf-8\r\nContent-Length: " +
         std::to_string(body.size()) + "\r\n\r\n" + body;
}

std::string empty_body(const std::string& sid, unsigned long long rid) {
  return "<body rid='" + std::to_string(rid) + "' sid='" + sid +
         "' xmlns='http://jabber.org/protocol/httpbind'/>";
}

std::string message_body(const std::string& sid, unsigned long long rid, const std::string& to) {
  return "<body rid='" + std::to_string(rid) + "' sid='" + sid +
         "' xmlns='http://jabber.org/protocol/httpbind'><message to='" + to +
         "' type='chat' xmlns='jabber:client'><body>ping</body></message></body>";
}

void fail(const char* what) {
  std::fprintf(stderr, "bench_request_load: %s: %s\n", what, std::strerror(errno));
  std::exit(1);
}

void flush(Conn& c) {
  while (c.out_done < c.out.size()) {
    const ssize_t n =
        ::send(c.fd, c.out.data() + c.out_done, c.out.size() - c.out_done, MSG_NOSIGNAL);
    if (n < 0) {
      if (errno == EAGAIN) return;  // EPOLLOUT is not armed: with ~300 bytes it does not happen
      fail("send");
    }
    c.out_done += static_cast<std::size_t>(n);
  }
}

void send_request(Conn& c, std::string request) {
  c.out = std::move(request);
  c.out_done = 0;
  c.busy = true;
  flush(c);
}

void start_round(Unit& u) {
  if (stopping) return;
  switch (mode) {
    case Mode::kRepeat:
      u.waiting = 1;
      send_request(u.a, http_post(empty_body(u.sid_a, u.rid_a)));
      break;
    case Mode::kMessage:
      u.waiting = 1;
      send_request(u.a, http_post(message_body(u.sid_a, u.rid_a++, u.peer)));
      break;
    case Mode::kPair:
      // The poll first: on loopback it is readable at the server before the message.
      u.waiting = 2;
      send_request(u.a, http_post(empty_body(u.sid_a, u.rid_a++)));
      send_request(u.b, http_post(message_body(u.sid_b, u.rid_b++, u.peer)));
      break;
  }
}

// Length of the first complete answer in `in`, 0 if not complete yet.
std::size_t complete_answer(const std::string& in, bool& ok) {
  const std::size_t head_end = in.find("\r\n\r\n");
  if (head_end == std::string::npos) return 0;
  const std::size_t cl = in.find("Content-Length: ");
  if (cl == std::string::npos || cl > head_end) {
    ok = false;
    return head_end + 4;
  }
  const std::size_t length = std::strtoull(in.c_str() + cl + 16, nullptr, 10);
  const std::size_t total = head_end + 4 + length;
  if (in.size() < total) return 0;
  ok = in.compare(0, 12, "HTTP/1.1 200") == 0 &&
       in.find("type='terminate'", head_end) == std::string::npos &&
       in.find("type=\"terminate\"", head_end) == std::string::npos;
  if (!ok && errors < 3)
    std::fprintf(stderr, "bench_request_load: bad answer: %.400s\n", in.c_str());
  return total;
}

void on_readable(Conn& c) {
  char buffer[16384];
  for (;;) {
    const ssize_t n = ::recv(c.fd, buffer, sizeof buffer, 0);
    if (n < 0) {
      if (errno == EAGAIN) break;
      fail("recv");
    }
    if (n == 0) {
      std::fprintf(stderr, "bench_request_load: the server closed a connection\n");
      std::exit(1);
    }
    c.in.append(buffer, static_cast<std::size_t>(n));
    if (static_cast<std::size_t>(n) < sizeof buffer) break;
  }
  bool ok = true;
  while (std::size_t used = complete_answer(c.in, ok)) {
    c.in.erase(0, used);
    c.busy = false;
    ++responses;
    if (!ok) ++errors;
    if (--c.unit->waiting == 0) start_round(*c.unit);
  }
}

void open_conn(Conn& c, Unit& u, const sockaddr_in& addr) {
  c.unit = &u;
  c.fd = ::socket(AF_INET, SOCK_STREAM, 0);
  if (c.fd < 0) fail("socket");
  if (::connect(c.fd, reinterpret_cast<const sockaddr*>(&addr), sizeof addr) != 0) fail("connect");
  const int one = 1;
  ::setsockopt(c.fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  ::fcntl(c.fd, F_SETFL, ::fcntl(c.fd, F_GETFL) | O_NONBLOCK);
  epoll_event ev{};
  ev.events = EPOLLIN;
  ev.data.ptr = &c;
  if (::epoll_ctl(epoll_fd, EPOLL_CTL_ADD, c.fd, &ev) != 0) fail("epoll_ctl");
}

double cpu_seconds() {
  rusage ru{};
  ::getrusage(RUSAGE_SELF, &ru);
  return static_cast<double>(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) +
         static_cast<double>(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6;
}

}  // namespace

int main(int argc, char** argv) {
  std::string connect, file, mode_name;
  double seconds = 5;
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string key = argv[i];
    if (key == "--connect")
      connect = argv[i + 1];
    else if (key == "--mode")
      mode_name = argv[i + 1];
    else if (key == "--sessions")
      file = argv[i + 1];
    else if (key == "--seconds")
      seconds = std::atof(argv[i + 1]);
  }
  if (mode_name == "repeat")
    mode = Mode::kRepeat;
  else if (mode_name == "message")
    mode = Mode::kMessage;
  else if (mode_name == "pair")
    mode = Mode::kPair;
  const std::size_t colon = connect.rfind(':');
  if (mode_name.empty() || file.empty() || colon == std::string::npos) {
    std::fprintf(
        stderr,
        "usage: %s --connect IP:PORT --mode repeat|message|pair --sessions FILE --seconds S\n",
        argv[0]);
    return 2;
  }
  host = connect;
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<std::uint16_t>(std::atoi(connect.c_str() + colon + 1)));
  ::inet_pton(AF_INET, connect.substr(0, colon).c_str(), &addr.sin_addr);

  std::vector<Unit> units;
  {
    std::ifstream in(file);
    std::string line;
    while (std::getline(in, line)) {
      std::istringstream fields(line);
      Unit u;
      if (mode == Mode::kPair)
        fields >> u.sid_a >> u.rid_a >> u.sid_b >> u.rid_b >> u.peer;
      else
        fields >> u.sid_a >> u.rid_a >> u.peer;
      if (!u.sid_a.empty()) units.push_back(std::move(u));
    }
  }
  if (units.empty()) {
    std::fprintf(stderr, "bench_request_load: no sessions in %s\n", file.c_str());
    return 2;
  }
  epoll_fd = ::epoll_create1(0);
  for (Unit& u : units) {
    open_conn(u.a, u, addr);
    if (mode == Mode::kPair) open_conn(u.b, u, addr);
  }

  const auto started = Clock::now();
  const auto deadline = started + std::chrono::duration<double>(seconds);
  for (Unit& u : units) start_round(u);
  epoll_event events[256];
  for (;;) {
    const auto now = Clock::now();
    if (!stopping && now >= deadline) stopping = true;
    if (stopping) {
      bool idle = true;
      for (const Unit& u : units) idle = idle && u.waiting == 0;
      if (idle || now >= deadline + std::chrono::seconds(5)) break;
    }
    const int n = ::epoll_wait(epoll_fd, events, 256, 50);
    if (n < 0 && errno != EINTR) fail("epoll_wait");
    for (int i = 0; i < n; ++i) on_readable(*static_cast<Conn*>(events[i].data.ptr));
  }
  const double wall = std::chrono::duration<double>(Clock::now() - started).count();
  for (Unit& u : units) {
    ::close(u.a.fd);
    if (mode == Mode::kPair) ::close(u.b.fd);
  }
  if (mode != Mode::kRepeat) {
    std::ofstream out(file, std::ios::trunc);
    for (const Unit& u : units) {
      if (mode == Mode::kPair)
        out << u.sid_a << ' ' << u.rid_a << ' ' << u.sid_b << ' ' << u.rid_b << ' ' << u.peer
            << '\n';
      else
        out << u.sid_a << ' ' << u.rid_a << ' ' << u.peer << '\n';
    }
  }
  std::printf("{\"responses\":%llu,\"errors\":%llu,\"wall\":%.3f,\"cpu\":%.3f}\n", responses,
              errors, wall, cpu_seconds());
  return errors == 0 ? 0 : 1;
}
