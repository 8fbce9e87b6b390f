// What a kernel loader leaves behind: how the kernel wants to be entered and
// where its bytes ended up. The boot configuration and the vCPU setup read it.
#pragma once

#include <asm/bootparam.h>

#include <optional>

#include "vmm/memory/guest_address.h"

namespace bulkhead::vmm {

enum class BootProtocol {
  kLinux64,  // bzImage: Linux 64-bit boot protocol, zero page in rsi
  kPvh,      // ELF vmlinux: PVH entry in 32-bit protected mode, start info in ebx
};

struct LoadedKernel {
  BootProtocol protocol = BootProtocol::kLinux64;
  GuestAddress entry;
  // The bzImage's setup header (kLinux64 only), for the zero page.
  std::optional<setup_header> header;
  // First byte past everything the kernel occupies while it boots (for a
  // bzImage: its decompression area); the initrd goes above it.
  GuestAddress kernel_end;
};

}  // namespace bulkhead::vmm
