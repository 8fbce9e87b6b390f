// run-timer: times one command, from just before the fork to its exit, with CLOCK_MONOTONIC.
// Built static by bench/vmtier.sh, so it runs in the test host (busybox, whose date has no
// sub-second clock).
//
//   run-timer CMD...
//
// CMD's stdin is /dev/null; its stdout and stderr are ours. Prints one line on stderr:
//   ms=<elapsed> rc=<exit status, or 128 + signal>
// Exit status: 0 when CMD exited 0, 1 otherwise, 2 on bad usage.
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdio.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static double now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec * 1000.0 + (double)ts.tv_nsec / 1e6;
}

int main(int argc, char** argv) {
  if (argc < 2) {
    fprintf(stderr, "usage: run-timer CMD...\n");
    return 2;
  }
  double start = now_ms();
  pid_t pid = fork();
  if (pid < 0) {
    perror("fork");
    return 2;
  }
  if (pid == 0) {
    int null = open("/dev/null", O_RDONLY);
    if (null >= 0) dup2(null, 0);
    execvp(argv[1], argv + 1);
    perror(argv[1]);
    _exit(127);
  }
  int status = 0;
  while (waitpid(pid, &status, 0) < 0) {
  }
  double elapsed = now_ms() - start;
  int rc = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  fprintf(stderr, "ms=%.3f rc=%d\n", elapsed, rc);
  return rc == 0 ? 0 : 1;
}
