#include "runtime/process.h"

#include <poll.h>
#include <signal.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

namespace bulkhead::runtime {

namespace {

volatile sig_atomic_t g_forward_to = 0;

void Forward(int sig) {
  if (g_forward_to > 0) kill(g_forward_to, sig);
}

}  // namespace

Result<int> WaitForwardingSignals(pid_t pid) {
  g_forward_to = pid;
  struct sigaction sa {};
  sa.sa_handler = Forward;
  sa.sa_flags = SA_RESTART;
  sigemptyset(&sa.sa_mask);
  for (int sig : kForwardedSignals) {
    sigaction(sig, &sa, nullptr);
  }
  int status = 0;
  while (waitpid(pid, &status, 0) < 0) {
    if (errno != EINTR) {
      g_forward_to = 0;
      return Error::FromErrno("waiting for the container process");
    }
  }
  g_forward_to = 0;
  if (WIFEXITED(status)) return WEXITSTATUS(status);
  if (WIFSIGNALED(status)) return 128 + WTERMSIG(status);
  return 1;
}

Result<UniqueFd> OpenInit(const ContainerState& state) {
  int fd = static_cast<int>(syscall(SYS_pidfd_open, state.pid, 0));
  if (fd < 0) {
    if (errno == ESRCH) return UniqueFd();
    return Error::FromErrno("pidfd_open " + std::to_string(state.pid));
  }
  UniqueFd pidfd(fd);
  // Checked after the pidfd exists: from here on the pid cannot be recycled under us.
  if (ProcessStartTime(state.pid) != state.pid_start_time) return UniqueFd();
  return pidfd;
}

Status SignalInit(const ContainerState& state, int sig) {
  BH_ASSIGN(UniqueFd pidfd, OpenInit(state));
  if (!pidfd.valid()) return Error("container \"" + state.id + "\" is not running", ESRCH);
  if (syscall(SYS_pidfd_send_signal, pidfd.get(), sig, nullptr, 0) != 0) {
    if (errno == ESRCH) return Error("container \"" + state.id + "\" is not running", ESRCH);
    return Error::FromErrno("signalling the init of \"" + state.id + "\"");
  }
  return Ok();
}

Status WaitInitGone(const ContainerState& state, int timeout_ms) {
  BH_ASSIGN(UniqueFd pidfd, OpenInit(state));
  if (!pidfd.valid()) return Ok();
  struct pollfd p {
    pidfd.get(), POLLIN, 0
  };
  int rc;
  do {
    rc = poll(&p, 1, timeout_ms);
  } while (rc < 0 && errno == EINTR);
  if (rc == 0) return Error("container \"" + state.id + "\" did not exit in time", ETIMEDOUT);
  if (rc < 0) return Error::FromErrno("waiting for the init of \"" + state.id + "\"");
  return Ok();
}

}  // namespace bulkhead::runtime
