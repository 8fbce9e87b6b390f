// The kernel command line in guest memory: NUL-terminated, length-checked.
#pragma once

#include <cstdint>
#include <string_view>

#include "base/result.h"
#include "vmm/boot/loaded_kernel.h"
#include "vmm/memory/guest_memory.h"

namespace bulkhead::vmm {

// Bytes the command line may take, NUL included: kCmdlineMaxSize, lowered to
// cmdline_size + 1 when a bzImage header declares a smaller limit.
uint64_t CmdlineCapacity(const LoadedKernel& kernel);

// Writes `cmdline` and its NUL at `addr`. Refuses an embedded NUL (the kernel
// would silently drop what follows) and lines that do not fit `capacity`.
Status WriteCmdline(GuestMemory& mem, GuestAddress addr, std::string_view cmdline, uint64_t capacity);

}  // namespace bulkhead::vmm
