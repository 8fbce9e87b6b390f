#include "vmm/arch/x86_64/layout.h"

namespace bulkhead::vmm::x86 {

std::vector<GuestRange> RamRanges(uint64_t mem_bytes) {
  mem_bytes &= ~(kPageSize - 1);
  std::vector<GuestRange> ranges;
  if (mem_bytes == 0) return ranges;
  const uint64_t gap_start = kMmioGapStart.raw();
  if (mem_bytes <= gap_start) {
    ranges.push_back({GuestAddress(0), mem_bytes});
    return ranges;
  }
  ranges.push_back({GuestAddress(0), gap_start});
  uint64_t high = mem_bytes - gap_start;
  const uint64_t room = UINT64_MAX - kMmioGapEnd.raw() + 1 - kPageSize;  // page-aligned end
  if (high > room) high = room;
  ranges.push_back({kMmioGapEnd, high});
  return ranges;
}

uint64_t LowRamEnd(const GuestMemory& mem) {
  for (const GuestMemory::Region& r : mem.regions()) {
    if (r.start <= kHimemStart && kHimemStart.raw() - r.start.raw() < r.size) {
      return r.start.raw() + r.size;
    }
  }
  return 0;
}

}  // namespace bulkhead::vmm::x86
