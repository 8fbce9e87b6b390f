#include "vmm/boot/initrd.h"

#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <string>

#include "base/syscall.h"
#include "vmm/arch/x86_64/layout.h"
#include "vmm/memory/hex.h"

namespace bulkhead::vmm {

namespace {
// boot.rst: a header before protocol 2.03 leaves initrd_addr_max 0, meaning this.
constexpr uint64_t kDefaultInitrdAddrMax = 0x37ffffff;
}  // namespace

Result<GuestAddress> PlaceInitrd(const GuestMemory& mem, const LoadedKernel& kernel, uint64_t size) {
  if (size == 0) return Error("initrd is empty");
  uint64_t ceiling = x86::LowRamEnd(mem);
  if (kernel.header) {
    // initrd_addr_max is the highest address the initrd's last byte may take.
    const uint64_t max = kernel.header->initrd_addr_max ? kernel.header->initrd_addr_max : kDefaultInitrdAddrMax;
    ceiling = std::min(ceiling, max + 1);
  }
  const uint64_t floor = (kernel.kernel_end.raw() + x86::kPageSize - 1) & ~(x86::kPageSize - 1);
  if (ceiling < floor || size > ceiling - floor) {
    return Error("initrd of " + std::to_string(size) + " bytes does not fit between the kernel's end " +
                 Hex(floor) + " and " + Hex(ceiling));
  }
  const uint64_t addr = (ceiling - size) & ~(x86::kPageSize - 1);
  if (addr < floor) {
    return Error("initrd of " + std::to_string(size) + " bytes does not fit page-aligned above " + Hex(floor));
  }
  return GuestAddress(addr);
}

Result<InitrdPlacement> LoadInitrdFromBytes(GuestMemory& mem, const LoadedKernel& kernel,
                                            std::span<const uint8_t> initrd) {
  BH_ASSIGN(GuestAddress addr, PlaceInitrd(mem, kernel, initrd.size()));
  BH_TRY(mem.Write(addr, initrd).Context("copying the initrd"));
  return InitrdPlacement{addr, initrd.size()};
}

Result<InitrdPlacement> LoadInitrd(GuestMemory& mem, const LoadedKernel& kernel, int fd) {
  struct stat st;
  if (::fstat(fd, &st) != 0) return Error::FromErrno("stat of the initrd");
  if (!S_ISREG(st.st_mode)) return Error("initrd is not a regular file");
  const auto size = static_cast<uint64_t>(st.st_size);
  BH_ASSIGN(GuestAddress addr, PlaceInitrd(mem, kernel, size));
  // Read straight into guest RAM: no host copy of a possibly large file.
  BH_ASSIGN(std::span<uint8_t> dst, mem.Slice(addr, size));
  size_t done = 0;
  while (done < dst.size()) {
    const ssize_t n = RetryEintr(
        [&] { return ::pread(fd, dst.data() + done, dst.size() - done, static_cast<off_t>(done)); });
    if (n < 0) return Error::FromErrno("reading the initrd");
    if (n == 0) return Error("initrd shrank while being read");
    done += static_cast<size_t>(n);
  }
  return InitrdPlacement{addr, size};
}

}  // namespace bulkhead::vmm
