// bulkhead-init: PID 1 of a bulkhead micro-VM. Mounts what the guest needs, greets the host
// on the virtio-console port, runs the container it is sent with the container tier's jail,
// and powers the VM off once the container's process has exited and that is reported.
// Anything that goes wrong is reported to the host as a guest-error frame, then the VM powers
// off: PID 1 never exits (that would panic the kernel).
#include <sys/reboot.h>
#include <sys/utsname.h>
#include <time.h>
#include <unistd.h>

#include <cstdio>

#include "base/log.h"
#include "jail/loopback.h"
#include "vminit/agent.h"
#include "vminit/guest_fs.h"
#include "vminit/layout.h"
#include "vminit/port.h"
#include "vmproto/message.h"

namespace bulkhead::vminit {
namespace {

// The last frames must reach the host before the power goes.
constexpr int kFinalFlushMs = 5000;

Status Boot() {
  BH_TRY(LeaveInitramfs());
  BH_TRY(MountGuestFilesystems());
  EnsureStdio();
  BH_TRY(jail::BringUpLoopback().Context("bringing up lo"));
  return Ok();
}

[[noreturn]] void PowerOff(Port* port) {
  if (port != nullptr) {
    if (Status s = port->FlushAll(kFinalFlushMs); !s.ok()) LogError(s.error().message());
  }
  sync();
  reboot(RB_POWER_OFF);
  // Only a process that is not the VM's init gets here (a container's pid 1 cannot power
  // off); the VM's init exiting would end the VM as well, through the kernel's panic.
  LogError(Error::FromErrno("power-off").message());
  _exit(1);
}

void Report(Port& port, uint32_t channel, const Error& e) {
  LogError(e.message());
  Status s = port.Send(vmproto::MakeGuestError(channel, e.errno_value(), e.message()));
  if (!s.ok()) LogError("reporting to the host: " + s.error().message());
}

[[noreturn]] void Main() {
  Status boot = Boot();
  Result<Port> opened = Port::Open(kConsolePort);
  if (!opened.ok()) {
    if (!boot.ok()) LogError("booting the guest: " + boot.error().message());
    LogError(opened.error().message());
    PowerOff(nullptr);
  }
  Port port = std::move(*opened);
  struct utsname u {};
  uname(&u);
  if (Status s = port.Send(vmproto::MakeHello(u.release)); !s.ok()) {
    LogError("hello: " + s.error().message());
    PowerOff(&port);
  }
  if (!boot.ok()) {
    Report(port, vmproto::kControlChannel, std::move(boot).error().Context("booting the guest"));
    PowerOff(&port);
  }
  Result<Agent> agent = Agent::Create(std::move(port));
  if (!agent.ok()) {
    LogError(agent.error().message());
    PowerOff(nullptr);
  }
  Status st = agent->Run();
  if (!st.ok()) Report(agent->port(), vmproto::kControlChannel, st.error());
  PowerOff(&agent->port());
}

}  // namespace
}  // namespace bulkhead::vminit

int main() {
  // The VM's init starts before anything is mounted: a pid 1 that finds /proc is a
  // container's (reached through /proc/self/exe, say), and must not act as the VM's init.
  if (getpid() != 1 || access("/proc/self", F_OK) == 0) {
    std::fprintf(stderr, "bulkhead-init: runs only as the init of a bulkhead VM\n");
    return 2;
  }
  // The first line on the guest's console: how far into its boot the kernel handed over
  // (the runtime's debug log and the vm-tier benchmark read it from console.log).
  struct timespec up {};
  clock_gettime(CLOCK_BOOTTIME, &up);
  std::fprintf(stderr, "bulkhead-init: up %ld.%03ld s into the guest's boot\n",
               static_cast<long>(up.tv_sec), up.tv_nsec / 1000000);
  bulkhead::vminit::Main();
}
