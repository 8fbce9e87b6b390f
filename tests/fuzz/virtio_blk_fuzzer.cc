// virtio-blk requests from a hostile guest: a device brought up through MMIO as a driver
// would, its queue filled with whatever headers, sectors, lengths and status buffers the
// input holds, against a small memfd disk (FuzzBlockRequests in
// vmm/devices/virtio/fuzz_support.h). A bad request must earn the guest an error status,
// never crash the monitor or touch memory outside guest RAM and the disk.
#include <cstddef>
#include <cstdint>
#include <span>

#include "vmm/devices/virtio/fuzz_support.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  (void)bulkhead::vmm::FuzzBlockRequests(std::span<const uint8_t>(data, size));
  return 0;
}
