// The body of a vCPU thread: install the vCPU seccomp list, then run the vCPU
// forever, handing port and MMIO exits to the buses. The thread ends the whole
// monitor (exit_group) on a triple fault or a KVM failure; a guest reset comes
// through the i8042 device, which ends it the same way.
#pragma once

#include <string_view>

#include "seccomp/compile.h"
#include "vmm/devices/bus.h"
#include "vmm/halt_watch.h"
#include "vmm/kvm/vcpu.h"
#include "vmm/memory/guest_memory.h"

namespace bulkhead::vmm {

struct VcpuThreadContext {
  Vcpu* vcpu = nullptr;
  const Bus* pio = nullptr;
  const Bus* mmio = nullptr;
  const seccomp::Program* filter = nullptr;  // null only without the jail
  HaltWatch* halt_watch = nullptr;
  // Self-test: right after installing the filter, make a system call outside
  // the vCPU list; the kernel must kill the monitor (SIGSYS).
  bool seccomp_selftest = false;
};

[[noreturn]] void RunVcpuThread(const VcpuThreadContext& ctx);

// The exit code for a guest-initiated reset: the Linux x86 reboot path stores
// its reboot mode at guest-physical 0x472 (the BIOS reset flag) just before it
// resets; 0x1234 (warm) marks a panic under `reboot=panic_warm`.
int ResetExitCode(const GuestMemory& mem);

// Writes "bulkhead-vmm: msg" to stderr with one write(2): safe in any jailed thread.
void ReportFatal(std::string_view msg);

}  // namespace bulkhead::vmm
