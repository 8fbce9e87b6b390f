#include "vmm/arch/x86_64/pvh.h"

#include <string>

#include "vmm/arch/x86_64/layout.h"

namespace bulkhead::vmm::x86 {

Status WritePvhStartInfo(GuestMemory& mem, const PvhConfig& config) {
  if (config.memory_map.size() > kPvhMemmapMaxEntries) {
    return Error("PVH memory map has " + std::to_string(config.memory_map.size()) +
                 " entries; room for " + std::to_string(kPvhMemmapMaxEntries));
  }
  HvmStartInfo info{};
  info.magic = kHvmStartMagic;
  info.version = kHvmStartVersion;
  info.cmdline_paddr = config.cmdline.raw();
  info.memmap_paddr = kPvhMemmapAddr.raw();
  info.memmap_entries = static_cast<uint32_t>(config.memory_map.size());
  if (config.initrd) {
    HvmModlistEntry module{config.initrd->start.raw(), config.initrd->size, 0, 0};
    BH_TRY(mem.WriteObj(kPvhModlistAddr, module).Context("writing the PVH module list"));
    info.nr_modules = 1;
    info.modlist_paddr = kPvhModlistAddr.raw();
  }
  GuestAddress at = kPvhMemmapAddr;
  for (const MemoryMapEntry& e : config.memory_map) {
    HvmMemmapEntry entry{e.addr, e.size, static_cast<uint32_t>(e.type), 0};
    BH_TRY(mem.WriteObj(at, entry).Context("writing the PVH memory map"));
    at = at.Plus(sizeof entry);  // bounded by kPvhMemmapMaxEntries above
  }
  return mem.WriteObj(kPvhStartInfoAddr, info).Context("writing the PVH start info");
}

}  // namespace bulkhead::vmm::x86
