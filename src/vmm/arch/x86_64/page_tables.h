// Identity page tables for the 64-bit boot protocol, which enters the kernel
// with paging on and needs the kernel, zero page, command line and initrd
// mapped 1:1. The kernel builds its own tables right after entry.
#pragma once

#include <cstdint>

#include "base/result.h"
#include "vmm/memory/guest_memory.h"

namespace bulkhead::vmm::x86 {

// Page-table entry bits used here.
constexpr uint64_t kPtePresent = 1ull << 0;
constexpr uint64_t kPteWritable = 1ull << 1;
constexpr uint64_t kPteHuge = 1ull << 7;  // in a page directory: a 2 MiB page

// Maps guest-physical [0, kIdentityMappedGiB GiB) 1:1 with 2 MiB pages: one
// PML4 at kPml4Addr, one PDPT at kPdptAddr, one directory per GiB from kPdAddr.
// CR3 is kPml4Addr.
Status WriteIdentityPageTables(GuestMemory& mem);

}  // namespace bulkhead::vmm::x86
