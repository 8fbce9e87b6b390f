#include "vmm/arch/x86_64/page_tables.h"

#include <array>

#include "vmm/arch/x86_64/layout.h"

namespace bulkhead::vmm::x86 {

namespace {
using Table = std::array<uint64_t, 512>;
constexpr uint64_t kLarge = 2 * kMiB;
static_assert(kPdAddr.raw() + kIdentityMappedGiB * kPageSize <= 0x10000, "tables overlap");
}  // namespace

Status WriteIdentityPageTables(GuestMemory& mem) {
  Table pml4{};
  pml4[0] = kPdptAddr.raw() | kPtePresent | kPteWritable;
  Table pdpt{};
  for (uint64_t gib = 0; gib < kIdentityMappedGiB; ++gib) {
    pdpt[gib] = (kPdAddr.raw() + gib * kPageSize) | kPtePresent | kPteWritable;
    Table pd{};
    for (uint64_t i = 0; i < pd.size(); ++i) {
      pd[i] = (gib * kGiB + i * kLarge) | kPtePresent | kPteWritable | kPteHuge;
    }
    BH_TRY(mem.WriteObj(kPdAddr.Plus(gib * kPageSize), pd).Context("writing a page directory"));
  }
  BH_TRY(mem.WriteObj(kPdptAddr, pdpt).Context("writing the PDPT"));
  return mem.WriteObj(kPml4Addr, pml4).Context("writing the PML4");
}

}  // namespace bulkhead::vmm::x86
