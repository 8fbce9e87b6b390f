// One KVM virtual machine: guest memory slots, the in-kernel interrupt
// controllers and timer, and the eventfd bindings that let devices run without
// vCPU exits (ioeventfd for queue notifications, irqfd for interrupts).
#pragma once

#include <cstdint>

#include "base/result.h"
#include "base/unique_fd.h"
#include "vmm/kvm/kvm.h"
#include "vmm/memory/guest_address.h"
#include "vmm/memory/guest_memory.h"

namespace bulkhead::vmm {

class Vm {
 public:
  // Creates the VM with its irqchip (PIC, IOAPIC, LAPICs) and PIT, and the
  // TSS and identity-map pages Intel VMX needs, at the given guest addresses.
  static Result<Vm> Create(const Kvm& kvm, GuestAddress tss, GuestAddress identity_map);

  int fd() const { return fd_.get(); }

  // Gives every region of `mem` to the guest, one slot each.
  Status MapMemory(const GuestMemory& mem);

  // A guest write of `len` bytes to MMIO `addr` carrying `datamatch` signals
  // `eventfd` in the kernel instead of exiting to the monitor.
  Status AddIoeventfd(int eventfd, GuestAddress addr, uint32_t len, uint64_t datamatch);
  // A write to `eventfd` raises interrupt line `gsi` (edge) in the in-kernel irqchip.
  Status AddIrqfd(int eventfd, uint32_t gsi);

  Result<UniqueFd> CreateVcpuFd(uint32_t index) const;

 private:
  UniqueFd fd_;
  uint32_t next_slot_ = 0;
};

}  // namespace bulkhead::vmm
