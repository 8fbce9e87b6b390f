// Loads a bzImage per the Linux x86 boot protocol (Documentation/x86/boot.rst)
// for the 64-bit entry. The image is untrusted input: every field is checked
// before it is used, and sizes are computed without overflow.
#pragma once

#include <cstdint>
#include <span>

#include "base/result.h"
#include "vmm/boot/loaded_kernel.h"
#include "vmm/memory/guest_memory.h"

namespace bulkhead::vmm {

constexpr size_t kSetupHeaderOffset = 0x1f1;
constexpr size_t kSetupHeaderMagicOffset = 0x202;
constexpr uint32_t kSetupHeaderMagic = 0x53726448;  // "HdrS"
constexpr uint16_t kBootFlag = 0xaa55;
// 2.06 brings cmdline_size; the 64-bit entry needs xloadflags, from 2.12.
constexpr uint16_t kMinBootProtocol = 0x206;
constexpr uint16_t kXloadflagsProtocol = 0x20c;
// The 64-bit entry point sits this far into the protected-mode kernel.
constexpr uint64_t kStartup64Offset = 0x200;

// True when the bytes carry the "HdrS" magic where a bzImage has it.
bool IsBzImage(std::span<const uint8_t> image);

// Copies the protected-mode kernel to kKernelLoadAddr and returns the entry
// (load address + 0x200) with the setup header for the zero page. Refuses
// images that are truncated, older than protocol 2.06, without a 64-bit
// entry, or whose decompression area (init_size from the runtime address)
// does not fit in the RAM below the MMIO gap.
Result<LoadedKernel> LoadBzImage(GuestMemory& mem, std::span<const uint8_t> image);

}  // namespace bulkhead::vmm
