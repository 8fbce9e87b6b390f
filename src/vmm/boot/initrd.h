// Places the initial ramdisk at the top of the RAM the kernel may reach for
// it, above the kernel's footprint, on a page boundary, as boot loaders do.
#pragma once

#include <cstdint>
#include <span>

#include "base/result.h"
#include "vmm/boot/loaded_kernel.h"
#include "vmm/memory/guest_memory.h"

namespace bulkhead::vmm {

struct InitrdPlacement {
  GuestAddress addr;
  uint64_t size = 0;
};

// Highest page-aligned address for `size` bytes below min(end of the RAM
// below the MMIO gap, initrd_addr_max + 1 for a bzImage) and not below the
// kernel's end. Errors when it does not fit or size is 0.
Result<GuestAddress> PlaceInitrd(const GuestMemory& mem, const LoadedKernel& kernel, uint64_t size);

// Places and copies an initrd held in memory.
Result<InitrdPlacement> LoadInitrdFromBytes(GuestMemory& mem, const LoadedKernel& kernel,
                                            std::span<const uint8_t> initrd);

// Places the file behind fd and reads it straight into guest RAM (from offset
// 0; the fd's position is left alone).
Result<InitrdPlacement> LoadInitrd(GuestMemory& mem, const LoadedKernel& kernel, int fd);

}  // namespace bulkhead::vmm
