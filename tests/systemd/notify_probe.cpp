// notify_probe: the service manager's end of sd_notify(3), for the tests. It
// binds a unix datagram socket at argv[1], prints "ready" once it can receive,
// then prints every datagram it gets as one line ("READY=1|STATUS=..." with the
// message's newlines turned into '|') and flushes, until stdin closes or it is
// killed. The Node test (notify.test.js) starts switchboard with NOTIFY_SOCKET
// pointing here. (Node's dgram has no unix datagram sockets.)
#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cstdio>
#include <cstring>
#include <string>

int main(int argc, char** argv) {
  if (argc != 2 || std::strlen(argv[1]) >= sizeof(sockaddr_un::sun_path)) {
    std::fprintf(stderr, "usage: notify_probe SOCKET_PATH\n");
    return 2;
  }
  const int fd = ::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  sockaddr_un address{};
  address.sun_family = AF_UNIX;
  std::strcpy(address.sun_path, argv[1]);
  ::unlink(argv[1]);
  if (fd < 0 || ::bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof address) != 0) {
    std::perror("notify_probe: bind");
    return 1;
  }
  std::printf("ready\n");
  std::fflush(stdout);
  pollfd fds[2] = {{fd, POLLIN, 0}, {STDIN_FILENO, POLLIN, 0}};
  char buffer[4096];
  for (;;) {
    if (::poll(fds, 2, -1) < 0) continue;
    if ((fds[1].revents & (POLLIN | POLLHUP)) != 0) {
      // stdin closed (or readable: the test has nothing to say) -> done.
      if (::read(STDIN_FILENO, buffer, sizeof buffer) <= 0) break;
    }
    if ((fds[0].revents & POLLIN) == 0) continue;
    const ssize_t n = ::recv(fd, buffer, sizeof buffer, 0);
    if (n <= 0) continue;
    std::string line(buffer, static_cast<std::size_t>(n));
    while (!line.empty() && line.back() == '\n') line.pop_back();
    for (char& c : line) {
      if (c == '\n') c = '|';
    }
    std::printf("%s\n", line.c_str());
    std::fflush(stdout);
  }
  ::unlink(argv[1]);
  return 0;
}
