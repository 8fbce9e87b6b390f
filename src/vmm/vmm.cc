#include "vmm/vmm.h"

#include <fcntl.h>
#include <malloc.h>
#include <signal.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <optional>
#include <thread>

#include "vmm/agent/relay.h"
#include "vmm/builder.h"
#include "vmm/exit_codes.h"
#include "vmm/jail.h"
#include "vmm/seccomp_policy.h"
#include "vmm/vcpu_thread.h"

namespace bulkhead::vmm {
namespace {

constexpr int kStopSignals[] = {SIGTERM, SIGINT, SIGHUP, SIGQUIT};

void IgnoreForDelivery(int) {}

// Host signals reach the event loop through a signalfd: the stop signals, and SIGWINCH when
// the workload has a terminal. The monitor may be pid 1 of its namespace, which only
// receives signals it has a handler for, so each gets an empty handler; all are blocked
// before the threads exist.
Result<UniqueFd> HostSignalFd(bool winch) {
  sigset_t set;
  sigemptyset(&set);
  struct sigaction sa{};
  sa.sa_handler = IgnoreForDelivery;
  for (int s : kStopSignals) {
    sigaddset(&set, s);
    sigaction(s, &sa, nullptr);
  }
  if (winch) {
    sigaddset(&set, SIGWINCH);
    sigaction(SIGWINCH, &sa, nullptr);
  }
  if (sigprocmask(SIG_BLOCK, &set, nullptr) != 0) return Error::FromErrno("blocking host signals");
  UniqueFd fd(signalfd(-1, &set, SFD_CLOEXEC | SFD_NONBLOCK));
  if (!fd) return Error::FromErrno("signalfd");
  return fd;
}

// Agent mode makes the container's stdio non-blocking (agent/relay.h), and those open files
// are the caller's as well (a shell's terminal, a shim's pipes). The jail's outer process,
// which keeps fds 0-2, gives them their flags back once the VM is gone. (--no-jail has no
// process left to do it.)
struct StdioFlags {
  int flags[3] = {-1, -1, -1};
  void Save() {
    for (int fd = 0; fd < 3; ++fd) flags[fd] = fcntl(fd, F_GETFL);
  }
  void Restore() const {
    for (int fd = 0; fd < 3; ++fd) {
      if (flags[fd] >= 0) (void)fcntl(fd, F_SETFL, flags[fd]);
    }
  }
};

int Fail(const Error& e) {
  ReportFatal(e.message());
  return kExitSetupError;
}

// Everything from here runs in the process that owns the VM.
int RunMachine(const VmConfig& config, HostFiles& files, const std::optional<JailFacts>& jail) {
  // A console or serial reader that goes away must not kill the VM.
  signal(SIGPIPE, SIG_IGN);
  auto machine = BuildMachine(config, files);
  if (!machine.ok()) return Fail(machine.error());
  Machine& m = **machine;

  auto vcpu_filter = CompilePolicy(ThreadRole::kVcpu);
  if (!vcpu_filter.ok()) return Fail(vcpu_filter.error());
  const bool writeback = config.agent && !config.agent->writeback.empty();
  auto loop_filter = CompilePolicy(ThreadRole::kEventLoop, writeback);
  if (!loop_filter.ok()) return Fail(loop_filter.error());

  agent::Relay* relay = m.agent.get();
  auto signals = HostSignalFd(config.agent && config.agent->tty);
  if (!signals.ok()) return Fail(signals.error());
  int sfd = signals->get();
  auto added = m.loop.Add(sfd, [sfd, relay] {
    signalfd_siginfo info{};
    while (read(sfd, &info, sizeof info) == static_cast<ssize_t>(sizeof info)) {
      if (info.ssi_signo != SIGWINCH) _exit(kExitSignalBase + static_cast<int>(info.ssi_signo));
      // The workload's terminal was resized: the guest's pty follows.
      if (relay != nullptr) {
        relay->ResizeMain();
        RunAgent(*relay);
      }
    }
  });
  if (!added.ok()) return Fail(added.error());

  auto halt_watch = HaltWatch::Create(m.vcpus.size());
  if (!halt_watch.ok()) return Fail(halt_watch.error());
  HaltWatch* watch = halt_watch->get();
  added = m.loop.Add(watch->timer_fd(), [watch, relay] {
    if (!watch->OnTick()) return;
    // Agent mode: the guest powers off right after the main process's exit frame. Take in
    // what the port still holds; with that exit in hand the relay ends the monitor itself,
    // with the workload's status, once the output is out.
    if (relay != nullptr) {
      RunAgent(*relay);
      if (relay->main_exited()) return;
    }
    _exit(kExitGuestPowerOff);
  });
  if (!added.ok()) return Fail(added.error());

  // What the guest writes back gets exactly the permission bits it asked for.
  if (writeback) umask(0);
  if (jail) {
    auto st = PivotToEmptyRoot();
    if (st.ok()) st = DropPrivileges(*jail);
    if (!st.ok()) return Fail(std::move(st).error().Context("jail"));
  }
  // One heap for every thread: per-thread arenas would need mprotect, which no
  // seccomp list allows.
  mallopt(M_ARENA_MAX, 1);
  for (auto& vcpu : m.vcpus) {
    VcpuThreadContext ctx{vcpu.get(), &m.pio, &m.mmio, jail ? &*vcpu_filter : nullptr, watch,
                          config.seccomp_selftest == VmConfig::SelfTest::kVcpu};
    std::thread([ctx] { RunVcpuThread(ctx); }).detach();
  }
  if (jail) {
    auto st = ApplyRlimits(m.agent ? agent::kSpareFds + (writeback ? agent::kWritebackFds : 0) : 0);
    if (!st.ok()) return Fail(std::move(st).error().Context("jail"));
    auto installed = seccomp::Install(*loop_filter);
    if (!installed.ok()) {
      ReportFatal("event loop: " + installed.error().message());
      _exit(kExitMonitorError);
    }
    if (config.seccomp_selftest == VmConfig::SelfTest::kEventLoop) syscall(SYS_getppid);
  }
  for (;;) {
    auto st = m.loop.RunOnce(-1);
    if (!st.ok()) {
      ReportFatal(st.error().message());
      _exit(kExitMonitorError);
    }
  }
}

}  // namespace

int RunVmm(const VmConfig& config) {
  auto files = OpenHostFiles(config);
  if (!files.ok()) return Fail(files.error());
  // The agent socket was made for this VM alone: it goes when the VM does. (Only the jail's
  // outer process can remove it; --no-jail leaves it behind once the VM ran.)
  auto remove_socket = [&] {
    if (config.agent) unlink(config.agent->socket.c_str());
  };
  if (!config.jail) {
    int code = RunMachine(config, *files, std::nullopt);
    remove_socket();
    return code;
  }
  auto facts = ReadJailFacts();
  auto st = facts.ok() ? EnterNamespaces() : Status(facts.error());
  if (!st.ok()) {
    remove_socket();
    return Fail(st.error());
  }
  StdioFlags stdio;
  stdio.Save();
  auto status = ForkAndWait([&] { return RunMachine(config, *files, *facts); });
  stdio.Restore();
  remove_socket();
  if (!status.ok()) return Fail(status.error());
  ExitLike(*status);
}

}  // namespace bulkhead::vmm
