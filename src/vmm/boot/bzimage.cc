#include "vmm/boot/bzimage.h"

#include <algorithm>
#include <cstddef>
#include <cstdio>
#include <cstring>
#include <string>

#include "vmm/arch/x86_64/layout.h"
#include "vmm/memory/hex.h"

namespace bulkhead::vmm {

namespace {

constexpr size_t kSectorSize = 512;
// The header must reach at least through init_size (protocol 2.10), which
// any image speaking 2.12 has.
constexpr size_t kRequiredHeaderEnd =
    kSetupHeaderOffset + offsetof(setup_header, init_size) + sizeof(uint32_t);

template <class T>
T Get(std::span<const uint8_t> image, size_t offset) {
  T value;
  std::memcpy(&value, image.data() + offset, sizeof value);
  return value;
}

std::string Version(uint16_t v) {
  char buf[16];
  std::snprintf(buf, sizeof buf, "%u.%02u", v >> 8, v & 0xff);
  return buf;
}

// Where the decompressor runs the kernel: the load address rounded up to
// kernel_alignment for a relocatable kernel, never below pref_address
// (LOAD_PHYSICAL_ADDR). init_size bytes from there must be RAM.
Result<uint64_t> FootprintEnd(const setup_header& hdr, uint64_t ram_end) {
  uint64_t start = x86::kKernelLoadAddr.raw();
  if (hdr.relocatable_kernel) {
    const uint64_t align = hdr.kernel_alignment;
    if (align == 0 || (align & (align - 1)) != 0 || align > x86::kGiB) {
      return Error("bzImage kernel_alignment " + Hex(align) + " is not a power of two up to 1 GiB");
    }
    start = (start + align - 1) & ~(align - 1);
  }
  if (hdr.pref_address > start) start = hdr.pref_address;
  const uint64_t init_size = hdr.init_size;
  if (start > ram_end || init_size > ram_end - start) {
    return Error("bzImage needs RAM up to " + Hex(start) + " + init_size " + Hex(init_size) +
                 ", but the guest's RAM below the MMIO gap ends at " + Hex(ram_end));
  }
  return start + init_size;
}

}  // namespace

bool IsBzImage(std::span<const uint8_t> image) {
  return image.size() >= kSetupHeaderMagicOffset + 4 &&
         Get<uint32_t>(image, kSetupHeaderMagicOffset) == kSetupHeaderMagic;
}

Result<LoadedKernel> LoadBzImage(GuestMemory& mem, std::span<const uint8_t> image) {
  if (!IsBzImage(image)) return Error("not a bzImage: no \"HdrS\" magic at 0x202");
  if (image.size() < kRequiredHeaderEnd) {
    return Error("bzImage truncated: " + std::to_string(image.size()) + " bytes end inside the setup header");
  }
  // The header's real end is given by the jump at 0x200: 0x202 + its offset byte.
  const size_t header_end = kSetupHeaderMagicOffset + image[0x201];
  if (header_end < kRequiredHeaderEnd) {
    return Error("bzImage setup header ends at " + Hex(header_end) + ", before the fields of protocol 2.10");
  }
  setup_header hdr;
  std::memset(&hdr, 0, sizeof hdr);
  const size_t copy_end = std::min(header_end, kSetupHeaderOffset + sizeof hdr);
  if (copy_end > image.size()) {
    return Error("bzImage truncated: " + std::to_string(image.size()) + " bytes end inside the setup header");
  }
  std::memcpy(&hdr, image.data() + kSetupHeaderOffset, copy_end - kSetupHeaderOffset);

  if (hdr.boot_flag != kBootFlag) return Error("bzImage boot_flag is " + Hex(hdr.boot_flag) + ", not 0xaa55");
  if (hdr.version < kMinBootProtocol) {
    return Error("bzImage speaks boot protocol " + Version(hdr.version) + "; at least 2.06 is needed");
  }
  if (hdr.version < kXloadflagsProtocol || !(hdr.xloadflags & XLF_KERNEL_64)) {
    return Error("bzImage has no 64-bit entry point (xloadflags lacks XLF_KERNEL_64, protocol " +
                 Version(hdr.version) + ")");
  }
  if (!(hdr.loadflags & LOADED_HIGH)) return Error("a zImage (loaded low) is not supported; use a bzImage");

  // setup_sects 0 means 4 (boot.rst); the boot sector itself is one more.
  const size_t setup_sects = hdr.setup_sects == 0 ? 4 : hdr.setup_sects;
  const size_t setup_size = (setup_sects + 1) * kSectorSize;
  if (setup_size >= image.size()) {
    return Error("bzImage truncated: its setup code ends at " + Hex(setup_size) + ", past the file's " +
                 std::to_string(image.size()) + " bytes");
  }
  std::span<const uint8_t> kernel = image.subspan(setup_size);
  // syssize counts the protected-mode code in 16-byte units; signed images
  // may carry more after it, never less.
  const uint64_t declared = uint64_t{hdr.syssize} * 16;
  if (declared > kernel.size()) {
    return Error("bzImage truncated: syssize declares " + std::to_string(declared) +
                 " bytes of kernel, the file has " + std::to_string(kernel.size()));
  }
  if (!mem.Contains(x86::kKernelLoadAddr, kernel.size())) {
    return Error("bzImage kernel of " + std::to_string(kernel.size()) + " bytes does not fit in guest RAM at " +
                 Hex(x86::kKernelLoadAddr.raw()));
  }
  BH_ASSIGN(uint64_t footprint_end, FootprintEnd(hdr, x86::LowRamEnd(mem)));
  BH_TRY(mem.Write(x86::kKernelLoadAddr, kernel).Context("loading the bzImage"));

  LoadedKernel loaded;
  loaded.protocol = BootProtocol::kLinux64;
  loaded.entry = x86::kKernelLoadAddr.Plus(kStartup64Offset);
  loaded.header = hdr;
  loaded.kernel_end = GuestAddress(std::max(footprint_end, x86::kKernelLoadAddr.raw() + kernel.size()));
  return loaded;
}

}  // namespace bulkhead::vmm
