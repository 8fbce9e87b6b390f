#include "vmm/arch/x86_64/regs.h"

#include "vmm/arch/x86_64/gdt.h"
#include "vmm/arch/x86_64/layout.h"

namespace bulkhead::vmm::x86 {

namespace {

void SetSegments(kvm_sregs& sregs, CpuMode mode) {
  const BootGdt gdt = MakeBootGdt(mode);
  const kvm_segment code = SegmentFromDescriptor(gdt[kBootCodeSelector / 8], kBootCodeSelector);
  const kvm_segment data = SegmentFromDescriptor(gdt[kBootDataSelector / 8], kBootDataSelector);
  sregs.cs = code;
  sregs.ds = data;
  sregs.es = data;
  sregs.fs = data;
  sregs.gs = data;
  sregs.ss = data;
  sregs.tr = SegmentFromDescriptor(gdt[kBootTssSelector / 8], kBootTssSelector);
  sregs.gdt.base = kGdtAddr.raw();
  sregs.gdt.limit = static_cast<uint16_t>(sizeof(BootGdt) - 1);
  sregs.idt.base = kIdtAddr.raw();
  sregs.idt.limit = static_cast<uint16_t>(sizeof(uint64_t) - 1);
}

}  // namespace

void SetupLongModeSregs(kvm_sregs& sregs) {
  SetSegments(sregs, CpuMode::kLong64);
  sregs.cr0 = (sregs.cr0 | kCr0Pe | kCr0Et | kCr0Pg) & ~(kCr0Cd | kCr0Nw);
  sregs.cr3 = kPml4Addr.raw();
  sregs.cr4 = kCr4Pae;
  sregs.efer = kEferLme | kEferLma;
}

void SetupPvhSregs(kvm_sregs& sregs) {
  SetSegments(sregs, CpuMode::kProtected32);
  sregs.cr0 = (sregs.cr0 | kCr0Pe | kCr0Et) & ~(kCr0Pg | kCr0Cd | kCr0Nw);
  sregs.cr3 = 0;
  sregs.cr4 = 0;
  sregs.efer = 0;
}

kvm_regs LongModeRegs(GuestAddress entry) {
  kvm_regs regs{};
  regs.rflags = kRflagsReserved;
  regs.rip = entry.raw();
  regs.rsp = kBootStackPointer.raw();
  regs.rbp = kBootStackPointer.raw();
  regs.rsi = kZeroPageAddr.raw();
  return regs;
}

kvm_regs PvhRegs(GuestAddress entry) {
  kvm_regs regs{};
  regs.rflags = kRflagsReserved;
  regs.rip = entry.raw();
  regs.rbx = kPvhStartInfoAddr.raw();
  return regs;
}

}  // namespace bulkhead::vmm::x86
