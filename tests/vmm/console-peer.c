// console-peer: the host end of the virtio-console test. Listens on a Unix
// socket (the monitor connects to it: --console socket:PATH), waits for the
// guest's "READY" line, sends "ping", and expects the guest to answer "PING".
// The handshake exists because the guest's tty echoes input until the test
// turns echo off; a "ping" sent before that would come straight back.
//
//   console-peer SOCKET_PATH [TIMEOUT_SECONDS]   (default 60)
//
// Prints every line it receives ("console-peer: got: ..."). Exit status: 0 the
// answer was PING, 1 another answer, 2 a setup error, the peer hung up, or the
// time ran out. Static, for the test host, which has no python.
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

static time_t deadline;

static int die(const char* what) {
  fprintf(stderr, "console-peer: %s: %s\n", what, strerror(errno));
  return 2;
}

// Waits until fd is readable or the deadline passes; false on timeout.
static int wait_readable(int fd) {
  for (;;) {
    const time_t left = deadline - time(NULL);
    if (left <= 0) return 0;
    struct pollfd p = {fd, POLLIN, 0};
    const int n = poll(&p, 1, (int)(left * 1000));
    if (n > 0) return 1;
    if (n < 0 && errno != EINTR) return 0;
  }
}

// Reads one line (without its \r\n) into buf; false on EOF, error or timeout.
static int read_line(int fd, char* buf, size_t size) {
  size_t n = 0;
  for (;;) {
    if (!wait_readable(fd)) return 0;
    char ch;
    const ssize_t r = read(fd, &ch, 1);
    if (r < 0 && errno == EINTR) continue;
    if (r <= 0) return 0;
    if (ch == '\n') break;
    if (ch != '\r' && n + 1 < size) buf[n++] = ch;
  }
  buf[n] = '\0';
  printf("console-peer: got: %s\n", buf);
  fflush(stdout);
  return 1;
}

int main(int argc, char** argv) {
  if (argc < 2 || argc > 3) {
    fprintf(stderr, "usage: console-peer SOCKET_PATH [TIMEOUT_SECONDS]\n");
    return 2;
  }
  const long timeout = argc == 3 ? strtol(argv[2], NULL, 10) : 60;
  if (timeout <= 0) {
    fprintf(stderr, "console-peer: bad timeout %s\n", argv[2]);
    return 2;
  }
  deadline = time(NULL) + timeout;
  struct sockaddr_un addr;
  memset(&addr, 0, sizeof addr);
  addr.sun_family = AF_UNIX;
  if (strlen(argv[1]) >= sizeof addr.sun_path) {
    fprintf(stderr, "console-peer: socket path too long: %s\n", argv[1]);
    return 2;
  }
  strcpy(addr.sun_path, argv[1]);
  const int ls = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (ls < 0) return die("socket");
  unlink(argv[1]);
  if (bind(ls, (struct sockaddr*)&addr, sizeof addr) < 0) return die(argv[1]);
  if (listen(ls, 1) < 0) return die("listen");
  if (!wait_readable(ls)) {
    fprintf(stderr, "console-peer: nobody connected within %ld s\n", timeout);
    return 2;
  }
  const int fd = accept4(ls, NULL, NULL, SOCK_CLOEXEC);
  if (fd < 0) return die("accept");

  char line[256];
  do {
    if (!read_line(fd, line, sizeof line)) {
      fprintf(stderr, "console-peer: no READY from the guest\n");
      return 2;
    }
  } while (strcmp(line, "READY") != 0);
  if (write(fd, "ping\n", 5) != 5) return die("write");
  do {
    if (!read_line(fd, line, sizeof line)) {
      fprintf(stderr, "console-peer: no answer from the guest\n");
      return 2;
    }
  } while (line[0] == '\0');
  return strcmp(line, "PING") == 0 ? 0 : 1;
}
