// A guest kernel image as bulkhead-vmm reads it from the configured file: ELF vmlinux
// (PVH entry note) or bzImage (64-bit boot protocol), loaded into guest RAM. The image
// is the tenant's, so a malformed header, note or segment must give an error naming it;
// a crash, a sanitizer report or a write outside guest RAM is the finding.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <span>

#include "vmm/boot/kernel_loader.h"

namespace {

// Enough RAM for a small image at the usual 1 MiB and 16 MiB load addresses, small enough
// that zeroing a huge p_memsz stays cheap per input. Mapped once and reused: loaders only
// write, so what a previous input left behind changes nothing.
constexpr uint64_t kRamBytes = 32ull << 20;

bulkhead::vmm::GuestMemory& Ram() {
  static bulkhead::vmm::GuestMemory* mem = [] {
    auto r = bulkhead::vmm::GuestMemory::Create({{bulkhead::vmm::GuestAddress(0), kRamBytes}});
    if (!r.ok()) {
      std::fprintf(stderr, "kernel_loader: guest memory: %s\n", r.error().message().c_str());
      std::abort();
    }
    return new bulkhead::vmm::GuestMemory(std::move(*r));
  }();
  return *mem;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  (void)bulkhead::vmm::LoadKernelFromBytes(Ram(), std::span<const uint8_t>(data, size));
  return 0;
}
