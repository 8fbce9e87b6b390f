// Everything written into guest memory around a loaded kernel before the
// first vCPU runs, and the registers each boot protocol starts with.
//
// The order a VM builder follows:
//   mem    = GuestMemory::Create(x86::RamRanges(bytes))
//   kernel = LoadKernel(mem, kernel_fd)
//   initrd = LoadInitrd(mem, kernel, initrd_fd)            (optional)
//   ConfigureBoot(mem, kernel, {cmdline, initrd, vcpus})
//   per vCPU: FilterCpuid, BootMsrs (arch/x86_64); for vCPU 0 also
//     SetupSregsFor(kernel, sregs) on KVM_GET_SREGS's result, RegsFor(kernel)
#pragma once

#include <linux/kvm.h>

#include <cstdint>
#include <optional>
#include <string>

#include "base/result.h"
#include "vmm/boot/initrd.h"
#include "vmm/boot/loaded_kernel.h"
#include "vmm/memory/guest_memory.h"

namespace bulkhead::vmm {

struct BootConfig {
  std::string cmdline;
  std::optional<InitrdPlacement> initrd;
  uint32_t vcpu_count = 1;
};

// Writes the command line (kCmdlineAddr), the MP table, the boot GDT and IDT,
// and per protocol either the identity page tables and zero page (kLinux64,
// with an E820 map of `mem`) or the PVH start info with its memory map and
// the initrd as module (kPvh).
Status ConfigureBoot(GuestMemory& mem, const LoadedKernel& kernel, const BootConfig& config);

// The boot vCPU's general registers for the kernel's entry.
kvm_regs RegsFor(const LoadedKernel& kernel);

// Adjusts the boot vCPU's sregs (read with KVM_GET_SREGS) for the entry mode.
void SetupSregsFor(const LoadedKernel& kernel, kvm_sregs& sregs);

}  // namespace bulkhead::vmm
