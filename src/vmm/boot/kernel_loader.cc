#include "vmm/boot/kernel_loader.h"

#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <string>
#include <vector>

#include "base/syscall.h"
#include "vmm/boot/bzimage.h"
#include "vmm/boot/elf_pvh.h"

namespace bulkhead::vmm {

namespace {

Result<LoadedKernel> Load(GuestMemory& mem, const KernelFile& file) {
  // Enough of the start for either format's magic (the bzImage's is at 0x202).
  BH_ASSIGN(std::vector<uint8_t> head, file.Read(0, std::min<uint64_t>(file.size(), 4096)));
  if (IsElf(head)) return LoadElfPvh(mem, file).Context("loading ELF kernel");
  if (IsBzImage(head)) {
    // A bzImage is loaded whole (its setup header says where its parts go).
    BH_ASSIGN(std::vector<uint8_t> image, file.Read(0, file.size()));
    return LoadBzImage(mem, image).Context("loading bzImage kernel");
  }
  return Error("kernel image is neither an ELF vmlinux nor a bzImage");
}

}  // namespace

Result<LoadedKernel> LoadKernelFromBytes(GuestMemory& mem, std::span<const uint8_t> image) {
  return Load(mem, KernelFile::FromBytes(image));
}

Result<LoadedKernel> LoadKernel(GuestMemory& mem, int kernel_fd) {
  struct stat st;
  if (::fstat(kernel_fd, &st) != 0) return Error::FromErrno("stat of the kernel image");
  if (!S_ISREG(st.st_mode)) return Error("kernel image is not a regular file");
  const auto size = static_cast<uint64_t>(st.st_size);
  if (size > kMaxKernelFileSize) {
    return Error("kernel image of " + std::to_string(size) + " bytes is larger than the " +
                 std::to_string(kMaxKernelFileSize) + " accepted");
  }
  return Load(mem, KernelFile::FromFd(kernel_fd, size));
}

}  // namespace bulkhead::vmm
