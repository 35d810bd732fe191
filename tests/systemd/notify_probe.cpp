// notify_probe: the service manager's end of sd_notify(3), for the tests. It
// binds a unix datagram socket at argv[1], prints "ready" once it can receive,
// then prints every datagram it gets as one line ("READY=1|STATUS=..." with the
// message's newlines turned into '|') and flushes, until stdin closes or it is
// killed. The Node test (notify.test.js) starts switchboard with NOTIFY_SOCKET
// pointing here. (Node's dgram has no unix datagram sockets.) With --pids after
// the path, each line starts with the sender's pid and a space (SO_PASSCRED), to
// tell which process spoke (an upgrade in place hands the daemon to another).
#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cstdio>
#include <cstring>
#include <string>

int main(int argc, char** argv) {
  const bool pids = argc == 3 && std::strcmp(argv[2], "--pids") == 0;
  if ((argc != 2 && !pids) || std::strlen(argv[1]) >= sizeof(sockaddr_un::sun_path)) {
    std::fprintf(stderr, "usage: notify_probe SOCKET_PATH [--pids]\n");
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
  const int on = 1;
  if (pids) ::setsockopt(fd, SOL_SOCKET, SO_PASSCRED, &on, sizeof on);
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
    iovec iov{buffer, sizeof buffer};
    alignas(cmsghdr) char control[CMSG_SPACE(sizeof(ucred))];
    msghdr msg{};
    msg.msg_iov = &iov;
    msg.msg_iovlen = 1;
    msg.msg_control = control;
    msg.msg_controllen = sizeof control;
    const ssize_t n = ::recvmsg(fd, &msg, 0);
    if (n <= 0) continue;
    std::string line(buffer, static_cast<std::size_t>(n));
    long sender = 0;
    for (cmsghdr* c = CMSG_FIRSTHDR(&msg); c != nullptr; c = CMSG_NXTHDR(&msg, c)) {
      if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_CREDENTIALS) {
        ucred cred{};
        std::memcpy(&cred, CMSG_DATA(c), sizeof cred);
        sender = cred.pid;
      }
    }
    while (!line.empty() && line.back() == '\n') line.pop_back();
    for (char& c : line) {
      if (c == '\n') c = '|';
    }
    if (pids) {
      std::printf("%ld %s\n", sender, line.c_str());
    } else {
      std::printf("%s\n", line.c_str());
    }
    std::fflush(stdout);
  }
  ::unlink(argv[1]);
  return 0;
}
