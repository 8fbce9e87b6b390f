// PVH boot: the start info a PVH kernel finds through ebx, with its memory map
// and module list. Layout as documented in Xen's public header
// xen/include/public/arch-x86/hvm/start_info.h (version 1); defined here so the
// monitor needs no Xen headers.
#pragma once

#include <cstdint>
#include <optional>
#include <vector>

#include "base/result.h"
#include "vmm/arch/x86_64/boot_params.h"
#include "vmm/memory/guest_memory.h"

namespace bulkhead::vmm::x86 {

constexpr uint32_t kHvmStartMagic = 0x336ec578;  // "xEn3" with the 0x80 bit of 'E' set
constexpr uint32_t kHvmStartVersion = 1;         // adds the memory map fields

struct HvmStartInfo {
  uint32_t magic;
  uint32_t version;
  uint32_t flags;
  uint32_t nr_modules;
  uint64_t modlist_paddr;
  uint64_t cmdline_paddr;
  uint64_t rsdp_paddr;  // 0: no ACPI; the guest finds the MP table instead
  uint64_t memmap_paddr;
  uint32_t memmap_entries;
  uint32_t reserved;
};
static_assert(sizeof(HvmStartInfo) == 56);

struct HvmModlistEntry {
  uint64_t paddr;
  uint64_t size;
  uint64_t cmdline_paddr;
  uint64_t reserved;
};
static_assert(sizeof(HvmModlistEntry) == 32);

// type uses the E820 numbering (XEN_HVM_MEMMAP_TYPE_RAM = 1, _RESERVED = 2).
struct HvmMemmapEntry {
  uint64_t addr;
  uint64_t size;
  uint32_t type;
  uint32_t reserved;
};
static_assert(sizeof(HvmMemmapEntry) == 24);

struct PvhConfig {
  GuestAddress cmdline;
  std::optional<GuestRange> initrd;  // passed as the first (only) module
  std::vector<MemoryMapEntry> memory_map;
};

// Writes the start info at kPvhStartInfoAddr, the module list at
// kPvhModlistAddr and the memory map at kPvhMemmapAddr.
Status WritePvhStartInfo(GuestMemory& mem, const PvhConfig& config);

}  // namespace bulkhead::vmm::x86
