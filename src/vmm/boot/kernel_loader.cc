#include "vmm/boot/kernel_loader.h"

#include <sys/stat.h>
#include <unistd.h>

#include <string>
#include <vector>

#include "base/syscall.h"
#include "vmm/boot/bzimage.h"
#include "vmm/boot/elf_pvh.h"

namespace bulkhead::vmm {

Result<LoadedKernel> LoadKernelFromBytes(GuestMemory& mem, std::span<const uint8_t> image) {
  if (IsElf(image)) return LoadElfPvh(mem, image).Context("loading ELF kernel");
  if (IsBzImage(image)) return LoadBzImage(mem, image).Context("loading bzImage kernel");
  return Error("kernel image is neither an ELF vmlinux nor a bzImage");
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
  std::vector<uint8_t> image(size);
  size_t done = 0;
  while (done < image.size()) {
    const ssize_t n = RetryEintr([&] {
      return ::pread(kernel_fd, image.data() + done, image.size() - done, static_cast<off_t>(done));
    });
    if (n < 0) return Error::FromErrno("reading the kernel image");
    if (n == 0) return Error("kernel image shrank while being read");
    done += static_cast<size_t>(n);
  }
  return LoadKernelFromBytes(mem, image);
}

}  // namespace bulkhead::vmm
