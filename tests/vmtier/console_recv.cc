// bh-console-recv: the console socket of the vm tier's integration test, playing the part of
// a shim that gives a process a terminal. It takes the pty master a runtime hands over
// (runc's protocol: the pty's name, the fd as SCM_RIGHTS), sets its size to ROWS1 x COLS1,
// and once that size shows in the output ("ROWS1 COLS1", as `stty size` prints it) resizes
// to ROWS2 x COLS2 and types "go" and Enter. Everything the terminal shows goes to OUT until
// the other end closes it (or 120 s pass).
//
//   bh-console-recv SOCKET OUT ROWS1 COLS1 ROWS2 COLS2
//
// Exit status: 0 once a master arrived and its end was seen, 1 otherwise.
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <termios.h>
#include <unistd.h>

#include <cstring>
#include <string>

namespace {

int Fail(const char* what) {
  perror(what);
  return 1;
}

bool Resize(int master, const char* rows, const char* cols) {
  winsize ws{};
  ws.ws_row = static_cast<unsigned short>(atoi(rows));
  ws.ws_col = static_cast<unsigned short>(atoi(cols));
  return ioctl(master, TIOCSWINSZ, &ws) == 0;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 7) {
    fprintf(stderr, "usage: bh-console-recv SOCKET OUT ROWS1 COLS1 ROWS2 COLS2\n");
    return 2;
  }
  int lsock = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  if (strlen(argv[1]) >= sizeof addr.sun_path) return Fail("socket path too long");
  strcpy(addr.sun_path, argv[1]);
  if (bind(lsock, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) return Fail("bind");
  if (listen(lsock, 1) != 0) return Fail("listen");
  int conn = accept4(lsock, nullptr, nullptr, SOCK_CLOEXEC);
  if (conn < 0) return Fail("accept");
  char name[256];
  char control[CMSG_SPACE(sizeof(int))] = {};
  iovec iov{name, sizeof name - 1};
  msghdr msg{};
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  msg.msg_control = control;
  msg.msg_controllen = sizeof control;
  if (recvmsg(conn, &msg, MSG_CMSG_CLOEXEC) <= 0) return Fail("recvmsg");
  cmsghdr* c = CMSG_FIRSTHDR(&msg);
  if (c == nullptr || c->cmsg_type != SCM_RIGHTS) return Fail("no fd in the message");
  int master = 0;
  memcpy(&master, CMSG_DATA(c), sizeof master);
  if (!Resize(master, argv[3], argv[4])) return Fail("first resize");

  FILE* out = fopen(argv[2], "w");
  if (out == nullptr) return Fail(argv[2]);
  std::string seen, first = std::string(argv[3]) + " " + argv[4];
  bool typed = false;
  for (int waited_ms = 0; waited_ms < 120000;) {
    pollfd p{master, POLLIN, 0};
    int rc = poll(&p, 1, 500);
    if (rc == 0) {
      waited_ms += 500;
      continue;
    }
    char buf[4096];
    ssize_t n = read(master, buf, sizeof buf);
    if (n <= 0) break;  // EIO: every slave descriptor is closed
    fwrite(buf, 1, static_cast<size_t>(n), out);
    fflush(out);
    seen.append(buf, static_cast<size_t>(n));
    if (!typed && seen.find(first) != std::string::npos) {
      typed = true;
      if (!Resize(master, argv[5], argv[6])) return Fail("second resize");
      if (write(master, "go\r", 3) != 3) return Fail("typing");
    }
  }
  fclose(out);
  return 0;
}
