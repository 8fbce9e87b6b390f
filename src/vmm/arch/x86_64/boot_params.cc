#include "vmm/arch/x86_64/boot_params.h"

#include <algorithm>
#include <cstring>
#include <string>

#include "vmm/arch/x86_64/layout.h"

namespace bulkhead::vmm::x86 {

std::vector<MemoryMapEntry> BuildMemoryMap(const std::vector<GuestRange>& ram) {
  const uint64_t hole_start = kEbdaStart.raw();
  const uint64_t hole_end = kHimemStart.raw();
  std::vector<MemoryMapEntry> map;
  for (const GuestRange& r : ram) {
    const uint64_t start = r.start.raw();
    const uint64_t end = start + r.size;  // GuestMemory ranges never wrap
    if (start < hole_start) {
      map.push_back({start, std::min(end, hole_start) - start, MemoryType::kRam});
    }
    if (start < hole_end && end > hole_start) {
      map.push_back({hole_start, hole_end - hole_start, MemoryType::kReserved});
    }
    if (end > hole_end) {
      const uint64_t from = std::max(start, hole_end);
      map.push_back({from, end - from, MemoryType::kRam});
    }
  }
  return map;
}

std::vector<MemoryMapEntry> BuildMemoryMap(const GuestMemory& mem) {
  std::vector<GuestRange> ram;
  for (const GuestMemory::Region& r : mem.regions()) ram.push_back({r.start, r.size});
  return BuildMemoryMap(ram);
}

Result<boot_params> BuildZeroPage(const ZeroPageConfig& config) {
  if (config.memory_map.size() > E820_MAX_ENTRIES_ZEROPAGE) {
    return Error("memory map has " + std::to_string(config.memory_map.size()) +
                 " entries; the zero page holds " + std::to_string(E820_MAX_ENTRIES_ZEROPAGE));
  }
  boot_params params;
  std::memset(&params, 0, sizeof params);
  params.hdr = config.header;
  // 0xff: a loader with no assigned id (boot.rst, type_of_loader).
  params.hdr.type_of_loader = 0xff;
  // The protected-mode kernel sits at 1 MiB.
  params.hdr.loadflags = static_cast<uint8_t>(params.hdr.loadflags | LOADED_HIGH);
  const uint64_t cmdline = config.cmdline.raw();
  params.hdr.cmd_line_ptr = static_cast<uint32_t>(cmdline);
  params.ext_cmd_line_ptr = static_cast<uint32_t>(cmdline >> 32);
  if (config.initrd) {
    const uint64_t addr = config.initrd->start.raw();
    const uint64_t size = config.initrd->size;
    params.hdr.ramdisk_image = static_cast<uint32_t>(addr);
    params.ext_ramdisk_image = static_cast<uint32_t>(addr >> 32);
    params.hdr.ramdisk_size = static_cast<uint32_t>(size);
    params.ext_ramdisk_size = static_cast<uint32_t>(size >> 32);
  } else {
    params.hdr.ramdisk_image = 0;
    params.hdr.ramdisk_size = 0;
  }
  size_t i = 0;
  for (const MemoryMapEntry& e : config.memory_map) {
    boot_e820_entry entry{e.addr, e.size, static_cast<uint32_t>(e.type)};
    std::memcpy(&params.e820_table[i++], &entry, sizeof entry);
  }
  params.e820_entries = static_cast<uint8_t>(i);
  return params;
}

}  // namespace bulkhead::vmm::x86
