#include "vmm/boot/kernel_file.h"

#include <unistd.h>

#include <cstring>
#include <string>

#include "base/syscall.h"

namespace bulkhead::vmm {

Status KernelFile::ReadAt(uint64_t offset, std::span<uint8_t> out) const {
  if (!Contains(offset, out.size())) {
    return Error("kernel image: " + std::to_string(out.size()) + " bytes at " + std::to_string(offset) +
                 " run past its " + std::to_string(size_) + " bytes");
  }
  if (fd_ < 0) {
    if (!out.empty()) std::memcpy(out.data(), bytes_.data() + offset, out.size());
    return Ok();
  }
  size_t done = 0;
  while (done < out.size()) {
    const ssize_t n = RetryEintr([&] {
      return ::pread(fd_, out.data() + done, out.size() - done, static_cast<off_t>(offset + done));
    });
    if (n < 0) return Error::FromErrno("reading the kernel image");
    if (n == 0) return Error("kernel image shrank while being read");
    done += static_cast<size_t>(n);
  }
  return Ok();
}

Result<std::vector<uint8_t>> KernelFile::Read(uint64_t offset, uint64_t len) const {
  if (!Contains(offset, len)) {
    return Error("kernel image: " + std::to_string(len) + " bytes at " + std::to_string(offset) +
                 " run past its " + std::to_string(size_) + " bytes");
  }
  std::vector<uint8_t> out(len);
  BH_TRY(ReadAt(offset, out));
  return out;
}

}  // namespace bulkhead::vmm
