// Loads a guest kernel, whichever of the two supported formats it is:
//   ELF vmlinux  -> PVH entry (elf_pvh.h)
//   bzImage      -> Linux 64-bit boot protocol (bzimage.h)
#pragma once

#include <cstdint>
#include <span>

#include "base/result.h"
#include "vmm/boot/loaded_kernel.h"
#include "vmm/memory/guest_memory.h"

namespace bulkhead::vmm {

// Larger than any kernel; stops a huge file from being read into memory.
constexpr uint64_t kMaxKernelFileSize = 256ull << 20;

// Picks the format from the bytes (ELF magic, else the bzImage "HdrS") and
// loads it. Also the entry point for fuzzing the loaders.
Result<LoadedKernel> LoadKernelFromBytes(GuestMemory& mem, std::span<const uint8_t> image);

// Loads the file behind kernel_fd as LoadKernelFromBytes does (the fd's position is left
// alone): an ELF's segments are read from the file straight into guest RAM, a bzImage is
// read whole.
Result<LoadedKernel> LoadKernel(GuestMemory& mem, int kernel_fd);

}  // namespace bulkhead::vmm
