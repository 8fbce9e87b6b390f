#include "vmm/kvm/vm.h"

#include <sys/ioctl.h>

#include <string>

#include "base/syscall.h"

namespace bulkhead::vmm {

Result<Vm> Vm::Create(const Kvm& kvm, GuestAddress tss, GuestAddress identity_map) {
  Vm vm;
  BH_ASSIGN(vm.fd_, kvm.CreateVmFd());
  // Both are Intel-only needs (real-mode emulation under VMX); AMD accepts and ignores them.
  uint64_t ident = identity_map.raw();
  if (ioctl(vm.fd(), KVM_SET_IDENTITY_MAP_ADDR, &ident) < 0) {
    return Error::FromErrno("KVM_SET_IDENTITY_MAP_ADDR");
  }
  if (ioctl(vm.fd(), KVM_SET_TSS_ADDR, static_cast<unsigned long>(tss.raw())) < 0) {
    return Error::FromErrno("KVM_SET_TSS_ADDR");
  }
  if (ioctl(vm.fd(), KVM_CREATE_IRQCHIP, 0) < 0) return Error::FromErrno("KVM_CREATE_IRQCHIP");
  // The PIT's speaker port dummy keeps port 0x61 reads inside the kernel too.
  kvm_pit_config pit{};
  pit.flags = KVM_PIT_SPEAKER_DUMMY;
  if (ioctl(vm.fd(), KVM_CREATE_PIT2, &pit) < 0) return Error::FromErrno("KVM_CREATE_PIT2");
  return vm;
}

Status Vm::MapMemory(const GuestMemory& mem) {
  for (const GuestMemory::Region& r : mem.regions()) {
    kvm_userspace_memory_region region{};
    region.slot = next_slot_;
    region.guest_phys_addr = r.start.raw();
    region.memory_size = r.size;
    region.userspace_addr = reinterpret_cast<uint64_t>(r.host);
    if (ioctl(fd(), KVM_SET_USER_MEMORY_REGION, &region) < 0) {
      return Error::FromErrno("KVM_SET_USER_MEMORY_REGION slot " + std::to_string(next_slot_));
    }
    ++next_slot_;
  }
  return Ok();
}

Status Vm::AddIoeventfd(int eventfd, GuestAddress addr, uint32_t len, uint64_t datamatch) {
  kvm_ioeventfd io{};
  io.addr = addr.raw();
  io.len = len;
  io.fd = eventfd;
  io.datamatch = datamatch;
  io.flags = KVM_IOEVENTFD_FLAG_DATAMATCH;
  if (ioctl(fd(), KVM_IOEVENTFD, &io) < 0) return Error::FromErrno("KVM_IOEVENTFD");
  return Ok();
}

Status Vm::AddIrqfd(int eventfd, uint32_t gsi) {
  kvm_irqfd irq{};
  irq.fd = static_cast<uint32_t>(eventfd);
  irq.gsi = gsi;
  if (ioctl(fd(), KVM_IRQFD, &irq) < 0) return Error::FromErrno("KVM_IRQFD gsi " + std::to_string(gsi));
  return Ok();
}

Result<UniqueFd> Vm::CreateVcpuFd(uint32_t index) const {
  int v = ioctl(fd(), KVM_CREATE_VCPU, static_cast<unsigned long>(index));
  if (v < 0) return Error::FromErrno("KVM_CREATE_VCPU " + std::to_string(index));
  return UniqueFd(v);
}

}  // namespace bulkhead::vmm
