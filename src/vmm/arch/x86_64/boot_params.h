// The Linux zero page (struct boot_params) and the guest memory map it carries.
// Pure construction: the caller writes the result at kZeroPageAddr.
#pragma once

#include <asm/bootparam.h>

#include <cstdint>
#include <optional>
#include <vector>

#include "base/result.h"
#include "vmm/memory/guest_memory.h"

namespace bulkhead::vmm::x86 {

// Address range types of the E820 map; PVH's memory map uses the same numbers.
enum class MemoryType : uint32_t { kRam = 1, kReserved = 2 };

struct MemoryMapEntry {
  uint64_t addr = 0;
  uint64_t size = 0;
  MemoryType type = MemoryType::kRam;
};

// The guest's memory map, ascending: every RAM range as usable except the
// legacy PC hole [kEbdaStart, kHimemStart) (EBDA, VGA memory, BIOS ROM), which
// is listed once as reserved when low RAM reaches into it.
std::vector<MemoryMapEntry> BuildMemoryMap(const std::vector<GuestRange>& ram);
std::vector<MemoryMapEntry> BuildMemoryMap(const GuestMemory& mem);

struct ZeroPageConfig {
  // The bzImage's setup header, copied as the boot protocol asks.
  setup_header header{};
  GuestAddress cmdline;
  std::optional<GuestRange> initrd;
  std::vector<MemoryMapEntry> memory_map;
};

// Fills a clean zero page: the image's header with the loader's fields set
// (type_of_loader 0xff, LOADED_HIGH, cmdline and initrd pointers, their high
// halves in the ext_* fields) and the E820 map. Fails when the map has more
// entries than the zero page holds.
Result<boot_params> BuildZeroPage(const ZeroPageConfig& config);

}  // namespace bulkhead::vmm::x86
