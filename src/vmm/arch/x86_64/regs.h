// The register state a vCPU starts a kernel with, for each boot protocol.
// The sregs functions take the vCPU's current kvm_sregs (from KVM_GET_SREGS)
// and change only what the entry contract fixes, so KVM's APIC base and
// interrupt bitmap pass through untouched.
#pragma once

#include <linux/kvm.h>

#include "vmm/memory/guest_address.h"

namespace bulkhead::vmm::x86 {

constexpr uint64_t kCr0Pe = 1ull << 0;   // protected mode
constexpr uint64_t kCr0Et = 1ull << 4;   // extension type, hardwired 1 on modern CPUs
constexpr uint64_t kCr0Nw = 1ull << 29;  // not write-through
constexpr uint64_t kCr0Cd = 1ull << 30;  // cache disable
constexpr uint64_t kCr0Pg = 1ull << 31;  // paging
constexpr uint64_t kCr4Pae = 1ull << 5;
constexpr uint64_t kEferLme = 1ull << 8;   // long mode enable
constexpr uint64_t kEferLma = 1ull << 10;  // long mode active
constexpr uint64_t kRflagsReserved = 1ull << 1;  // bit 1 always reads 1

// 64-bit boot protocol: CS = 64-bit code, DS/ES/FS/GS/SS = flat data (the GDT
// of WriteGdt(kLong64)), paging on with the identity tables at kPml4Addr, PAE,
// long mode active, caches on.
void SetupLongModeSregs(kvm_sregs& sregs);

// PVH entry: CS = flat 32-bit code, data segments flat, TR a 32-bit TSS (the
// GDT of WriteGdt(kProtected32)), CR0.PE set and paging off, CR4 and EFER 0.
void SetupPvhSregs(kvm_sregs& sregs);

// 64-bit boot protocol: rip at the 64-bit entry, rsi = zero page, a stack at
// kBootStackPointer, interrupts off.
kvm_regs LongModeRegs(GuestAddress entry);

// PVH: rip at the PHYS32_ENTRY address, rbx = start info, interrupts off.
kvm_regs PvhRegs(GuestAddress entry);

}  // namespace bulkhead::vmm::x86
