// The fixed guest-physical layout of an x86_64 micro-VM: every address, size,
// port and IRQ the monitor places or answers lives here, named and explained.
//
//   0x0000_0000  real-mode IVT + BIOS data area (left alone)
//   0x0000_0500  GDT, then IDT
//   0x0000_6000  PVH hvm_start_info, module list, memory map
//   0x0000_7000  zero page (struct boot_params)
//   0x0000_8ff0  initial stack (grows down inside 0x8000..0x8fff)
//   0x0000_9000  PML4, PDPT, 4 page directories (identity map of 4 GiB)
//   0x0002_0000  kernel command line
//   0x0009_fc00  EBDA: the MP table; reserved up to 1 MiB (VGA hole, BIOS ROM)
//   0x0010_0000  kernel (HIMEM_START), then RAM up to the MMIO gap
//   0xc000_0000  32-bit MMIO gap: virtio-mmio window, IOAPIC, local APIC,
//                KVM's identity map and TSS pages
//   0x1_0000_0000  RAM above 4 GiB
#pragma once

#include <cstdint>
#include <vector>

#include "vmm/memory/guest_address.h"
#include "vmm/memory/guest_memory.h"

namespace bulkhead::vmm::x86 {

constexpr uint64_t kPageSize = 0x1000;
constexpr uint64_t kMiB = 1ull << 20;
constexpr uint64_t kGiB = 1ull << 30;

// GDT: up to 8 descriptors (a 64-bit TSS descriptor takes two slots).
constexpr GuestAddress kGdtAddr{0x500};
constexpr uint64_t kGdtMaxEntries = 8;
// IDT: one empty gate; the kernel installs its own before enabling interrupts.
constexpr GuestAddress kIdtAddr{0x540};

// PVH boot (xen/arch-x86/hvm/start_info.h): the start info, the module list
// (at most the initrd) and the memory map all share the page at 0x6000.
constexpr GuestAddress kPvhStartInfoAddr{0x6000};
constexpr GuestAddress kPvhModlistAddr{0x6040};
constexpr uint64_t kPvhMaxModules = 1;
constexpr GuestAddress kPvhMemmapAddr{0x6100};
constexpr uint64_t kPvhMemmapMaxEntries = (0x7000 - 0x6100) / 24;  // 24-byte entries

// Linux boot protocol zero page (struct boot_params, one page); rsi points here.
constexpr GuestAddress kZeroPageAddr{0x7000};

// Initial rsp/rbp for the 64-bit entry; 16-byte aligned, below the page tables.
constexpr GuestAddress kBootStackPointer{0x8ff0};

// Identity page tables for the 64-bit entry: one PML4, one PDPT and one page
// directory per GiB mapped with 2 MiB pages.
constexpr GuestAddress kPml4Addr{0x9000};
constexpr GuestAddress kPdptAddr{0xa000};
constexpr GuestAddress kPdAddr{0xb000};
constexpr uint64_t kIdentityMappedGiB = 4;  // page directories at 0xb000..0xefff

// Kernel command line, NUL included. Linux's own x86 limit (COMMAND_LINE_SIZE)
// is 2048; the bzImage header may lower it further (cmdline_size).
constexpr GuestAddress kCmdlineAddr{0x20000};
constexpr uint64_t kCmdlineMaxSize = 4096;

// Extended BIOS data area. Linux scans the last KiB of base memory
// (0x9fc00..0xa0000) for the MP floating pointer, so the MP table goes there.
constexpr GuestAddress kEbdaStart{0x9fc00};
constexpr GuestAddress kMpTableAddr = kEbdaStart;
constexpr uint64_t kMpTableMaxSize = 0x400;

// First byte above the legacy hole (VGA memory and BIOS ROM, 0xa0000..1 MiB).
constexpr GuestAddress kHimemStart{0x100000};
// Where the protected-mode bzImage code is loaded (boot protocol default).
constexpr GuestAddress kKernelLoadAddr = kHimemStart;

// The 32-bit MMIO gap: RAM stops at 3 GiB and resumes at 4 GiB, leaving room
// below 4 GiB for devices that 32-bit addressing must reach.
constexpr GuestAddress kMmioGapStart{3 * kGiB};
constexpr GuestAddress kMmioGapEnd{4 * kGiB};

// virtio-mmio devices: one 4 KiB window each, from this base up.
constexpr GuestAddress kVirtioMmioBase{0xd0000000};
constexpr uint64_t kVirtioMmioSize = 0x1000;
// Their IRQs (IOAPIC pins): 5, 6, ... up to the last IOAPIC pin, 23.
constexpr uint32_t kVirtioFirstIrq = 5;
constexpr uint32_t kMaxIrq = 23;
constexpr uint32_t kVirtioMaxDevices = kMaxIrq - kVirtioFirstIrq + 1;

// Interrupt controllers, at the addresses every PC OS expects.
constexpr GuestAddress kIoapicAddr{0xfec00000};
constexpr uint32_t kIoapicPins = 24;
constexpr GuestAddress kLapicAddr{0xfee00000};

// 8250 UART at the COM1 port range, on ISA IRQ 4.
constexpr uint16_t kCom1Port = 0x3f8;
constexpr uint16_t kCom1PortCount = 8;
constexpr uint32_t kCom1Irq = 4;

// i8042 keyboard controller: only there so the guest can reset the machine
// (command 0xfe written to the command port).
constexpr uint16_t kI8042DataPort = 0x60;
constexpr uint16_t kI8042CommandPort = 0x64;

// MP table entries fit the EBDA's KiB up to this many vCPUs.
constexpr uint32_t kMaxVcpus = 32;

// Pages Intel VMX needs for real-mode emulation (KVM_SET_TSS_ADDR takes three
// pages, KVM_SET_IDENTITY_MAP_ADDR one), inside the MMIO gap just below the
// BIOS area where no RAM or device sits.
constexpr GuestAddress kKvmIdentityMapAddr{0xfeffc000};
constexpr GuestAddress kKvmTssAddr{0xfeffd000};

// Guest RAM for `mem_bytes` of memory (rounded down to whole pages): one range
// from 0 up to the MMIO gap, and the rest, if any, from 4 GiB up. A size so
// large that the high range would pass 2^64 is cut there.
std::vector<GuestRange> RamRanges(uint64_t mem_bytes);

// End of the RAM that starts below 1 MiB and runs up through the kernel: the
// ceiling for anything that must sit below 4 GiB (initrd). 0 when no region
// holds kHimemStart.
uint64_t LowRamEnd(const GuestMemory& mem);

}  // namespace bulkhead::vmm::x86
