// bh-subreaper: plays the part of containerd's shim for the vm tier's integration test. It
// becomes a child subreaper, runs a command (`bulkhead create ...`), and reaps whatever that
// leaves behind (the monitor), so the monitor's exit status can be checked as a shim sees it.
//
//   bh-subreaper STATUS_FILE COMMAND [ARG...]
//
// Appends "child <pid> <status>" when COMMAND exits and "orphan <pid> <status>" for every
// other process it reaps (status: the exit code, or 128 + the signal); exits once it has no
// children left, with COMMAND's status.
#include <stdio.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>

int main(int argc, char** argv) {
  if (argc < 3) {
    fprintf(stderr, "usage: bh-subreaper STATUS_FILE COMMAND [ARG...]\n");
    return 2;
  }
  if (prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) != 0) {
    perror("bh-subreaper: PR_SET_CHILD_SUBREAPER");
    return 2;
  }
  FILE* out = fopen(argv[1], "a");
  if (out == nullptr) {
    perror(argv[1]);
    return 2;
  }
  pid_t child = fork();
  if (child < 0) {
    perror("bh-subreaper: fork");
    return 2;
  }
  if (child == 0) {
    execvp(argv[2], argv + 2);
    perror(argv[2]);
    _exit(127);
  }
  int child_code = 1;
  for (;;) {
    int status = 0;
    pid_t pid = waitpid(-1, &status, 0);
    if (pid < 0) {
      if (errno == EINTR) continue;
      break;  // ECHILD: nothing left to reap
    }
    int code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    if (pid == child) child_code = code;
    fprintf(out, "%s %d %d\n", pid == child ? "child" : "orphan", static_cast<int>(pid), code);
    fflush(out);
  }
  return child_code;
}
