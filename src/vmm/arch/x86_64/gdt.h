// The boot GDT and the segment state KVM is given to match it. KVM takes the
// hidden (cached) part of every segment register from kvm_sregs, so the values
// here must describe exactly the descriptors written into guest memory: the
// kernel reloads its segments from this GDT before it installs its own.
#pragma once

#include <linux/kvm.h>

#include <array>
#include <cstdint>

#include "base/result.h"
#include "vmm/memory/guest_memory.h"

namespace bulkhead::vmm::x86 {

// The mode the vCPU starts in: 64-bit long mode for the Linux 64-bit boot
// protocol, 32-bit protected mode with paging off for PVH.
enum class CpuMode { kLong64, kProtected32 };

// Selectors as the boot protocol names them: __BOOT_CS 0x10, __BOOT_DS 0x18.
constexpr uint16_t kBootCodeSelector = 0x10;
constexpr uint16_t kBootDataSelector = 0x18;
constexpr uint16_t kBootTssSelector = 0x20;  // 16 bytes in long mode: slots 4 and 5

// One 8-byte descriptor. `access` is the P/DPL/S/type byte, `flags` the
// G/DB/L/AVL nibble; limit has 20 bits.
constexpr uint64_t EncodeDescriptor(uint32_t base, uint32_t limit, uint8_t access, uint8_t flags) {
  return (uint64_t{limit} & 0xffff) | ((uint64_t{base} & 0xffffff) << 16) | (uint64_t{access} << 40) |
         (((uint64_t{limit} >> 16) & 0xf) << 48) | ((uint64_t{flags} & 0xf) << 52) |
         ((uint64_t{base} >> 24) << 56);
}

constexpr uint8_t kAccessCode = 0x9b;  // present, ring 0, code, execute/read, accessed
constexpr uint8_t kAccessData = 0x93;  // present, ring 0, data, read/write, accessed
constexpr uint8_t kAccessTss = 0x8b;   // present, system, busy 32/64-bit TSS
constexpr uint8_t kFlagsCode64 = 0xa;  // 4 KiB granularity, long mode
constexpr uint8_t kFlagsFlat32 = 0xc;  // 4 KiB granularity, 32-bit default size

using BootGdt = std::array<uint64_t, 6>;

// null, null, code (64-bit or flat 32-bit), flat data, TSS (base 0, limit 0x67).
BootGdt MakeBootGdt(CpuMode mode);

// The kvm_segment a selector loads from `descriptor`, limit scaled by G.
kvm_segment SegmentFromDescriptor(uint64_t descriptor, uint16_t selector);

// Writes the GDT for `mode` at kGdtAddr and an empty IDT at kIdtAddr.
Status WriteGdt(GuestMemory& mem, CpuMode mode);

}  // namespace bulkhead::vmm::x86
