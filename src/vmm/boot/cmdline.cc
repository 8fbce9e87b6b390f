#include "vmm/boot/cmdline.h"

#include <algorithm>
#include <string>
#include <vector>

#include "vmm/arch/x86_64/layout.h"

namespace bulkhead::vmm {

uint64_t CmdlineCapacity(const LoadedKernel& kernel) {
  uint64_t capacity = x86::kCmdlineMaxSize;
  // cmdline_size (protocol 2.06+) excludes the NUL.
  if (kernel.header && kernel.header->version >= 0x206) {
    capacity = std::min<uint64_t>(capacity, uint64_t{kernel.header->cmdline_size} + 1);
  }
  return capacity;
}

Status WriteCmdline(GuestMemory& mem, GuestAddress addr, std::string_view cmdline, uint64_t capacity) {
  if (cmdline.find('\0') != std::string_view::npos) return Error("kernel command line contains a NUL byte");
  if (cmdline.size() >= capacity) {
    return Error("kernel command line is " + std::to_string(cmdline.size()) + " bytes; the limit is " +
                 std::to_string(capacity == 0 ? 0 : capacity - 1));
  }
  std::vector<uint8_t> bytes(cmdline.begin(), cmdline.end());
  bytes.push_back(0);
  return mem.Write(addr, bytes).Context("writing the kernel command line");
}

}  // namespace bulkhead::vmm
