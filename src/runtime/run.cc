// `run`: create and start; in the foreground, also wait for the workload, forward
// signals to it, delete the container and exit with its status.
#include <signal.h>
#include <sys/wait.h>

#include "runtime/verbs.h"

namespace bulkhead::runtime {

namespace {

volatile sig_atomic_t g_init_pid = 0;

void Forward(int sig) {
  if (g_init_pid > 0) kill(g_init_pid, sig);
}

void ForwardSignals(pid_t pid) {
  g_init_pid = pid;
  struct sigaction sa {};
  sa.sa_handler = Forward;
  sa.sa_flags = SA_RESTART;
  sigemptyset(&sa.sa_mask);
  for (int sig : {SIGHUP, SIGINT, SIGQUIT, SIGTERM, SIGUSR1, SIGUSR2, SIGWINCH, SIGCONT}) {
    sigaction(sig, &sa, nullptr);
  }
}

}  // namespace

Result<int> Run(const GlobalOptions& g, const CreateOptions& o, bool detach) {
  BH_ASSIGN(CreatedContainer c, Create(g, o));
  if (detach) {
    Status st = Start(g, o.id);
    if (!st.ok()) (void)Delete(g, o.id, true);
    BH_TRY(std::move(st));
    return 0;
  }
  ForwardSignals(c.pid);
  Status st = Start(g, o.id);
  if (!st.ok()) {
    (void)Delete(g, o.id, true);
    return std::move(st).error();
  }
  int status = 0;
  while (waitpid(c.pid, &status, 0) < 0) {
    if (errno != EINTR) return Error::FromErrno("waiting for the container");
  }
  g_init_pid = 0;
  BH_TRY(Delete(g, o.id, true));
  if (WIFEXITED(status)) return WEXITSTATUS(status);
  if (WIFSIGNALED(status)) return 128 + WTERMSIG(status);
  return 1;
}

}  // namespace bulkhead::runtime
