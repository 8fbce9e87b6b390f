#include "runtime/process.h"

#include <poll.h>
#include <signal.h>
#include <sys/syscall.h>
#include <unistd.h>

namespace bulkhead::runtime {

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
