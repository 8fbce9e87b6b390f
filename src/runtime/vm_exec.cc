// `exec` in the vm tier: the guest runs the process in the container (docs/vm-tier.md) and a
// process of ours stands in for it on the host, relaying its stdio and signals over the
// monitor's agent socket and ending with its status.
#include <fcntl.h>
#include <signal.h>
#include <sys/ioctl.h>
#include <sys/signalfd.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstring>

#include "base/log.h"
#include "base/unique_fd.h"
#include "oci/process_json.h"
#include "runtime/console_pty.h"
#include "runtime/pid_file.h"
#include "runtime/process.h"
#include "runtime/vm.h"
#include "vmtier/exec_relay.h"

namespace bulkhead::runtime {

namespace {

// The stand-in's life in a child: with a terminal it leads a session whose controlling
// terminal is the pty, so a resize reaches it as SIGWINCH.
[[noreturn]] void RelayInChild(vmtier::AgentClient& client, uint32_t channel,
                               const vmtier::ExecIo& io, const std::string& id) {
  if (io.tty >= 0 && (setsid() < 0 || ioctl(io.tty, TIOCSCTTY, 0) != 0)) {
    LogWarning("exec in container \"" + id + "\": no controlling terminal, resizes are lost: " +
               strerror(errno));
  }
  // The monitor kills a channel's process when its client goes, so the process never
  // outlives this relay.
  Result<int> status = vmtier::RelayExec(client, channel, io);
  if (!status.ok()) LogError("exec in container \"" + id + "\": " + status.error().message());
  _exit(status.ok() ? *status : 255);
}

}  // namespace

Result<int> ExecVm(const StateStore& store, const ContainerState& state,
                   const oci::Process& process, const ExecOptions& o) {
  if (o.preserve_fds > 0) {
    return Error("exec: --preserve-fds cannot pass descriptors into a VM (container \"" +
                     state.id + "\")",
                 ENOTSUP);
  }
  if (process.terminal && o.console_socket.empty()) {
    return Error("exec: a terminal was asked for but no --console-socket was given", EINVAL);
  }
  // Blocked from here, so a signal sent while the guest sets the process up is passed on
  // once it runs; SIGPIPE is ignored, a closed stdout must not end the relay.
  sigset_t forwarded;
  sigemptyset(&forwarded);
  for (int sig : kForwardedSignals) sigaddset(&forwarded, sig);
  sigprocmask(SIG_BLOCK, &forwarded, nullptr);
  signal(SIGPIPE, SIG_IGN);
  UniqueFd signals(signalfd(-1, &forwarded, SFD_CLOEXEC));
  if (!signals.valid()) return Error::FromErrno("exec: signalfd");

  std::string spec = "{\"process\":" + oci::ProcessToJson(process) + "}";
  BH_ASSIGN(vmtier::AgentClient client, ConnectVmAgent(store, state));
  UniqueFd tty;
  if (process.terminal) {
    BH_ASSIGN(tty, HandOverRawPty(o.console_socket, process.console_size, "exec"));
  }
  BH_ASSIGN(vmtier::OpenedExec opened,
            vmtier::OpenExec(client, spec).Context("exec in container \"" + state.id + "\""));
  vmtier::ExecIo io{STDIN_FILENO, STDOUT_FILENO, STDERR_FILENO, signals.get()};
  if (tty.valid()) io = {tty.get(), tty.get(), tty.get(), signals.get(), tty.get()};
  if (!o.detach && !tty.valid()) {
    BH_TRY(WritePidFile(o.pid_file, getpid()));
    return vmtier::RelayExec(client, opened.channel, io);
  }
  pid_t relay = fork();
  if (relay < 0) return Error::FromErrno("exec: fork");
  if (relay == 0) RelayInChild(client, opened.channel, io, state.id);
  tty.reset();
  Status written = WritePidFile(o.pid_file, relay);
  if (!written.ok()) {
    kill(relay, SIGKILL);
    waitpid(relay, nullptr, 0);
    return std::move(written).error();
  }
  // Detached, the child stands in (a shim reaps what its runtime left behind); else we wait
  // for it, passing our signals on to it.
  if (o.detach) return 0;
  sigprocmask(SIG_UNBLOCK, &forwarded, nullptr);
  return WaitForwardingSignals(relay);
}

}  // namespace bulkhead::runtime
