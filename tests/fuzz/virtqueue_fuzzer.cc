// A split virtqueue as a hostile guest lays it out: descriptor table, avail and used
// rings anywhere (misaligned or overlapping too), chains with loops, indirect tables and
// index jumps. FuzzVirtqueue (vmm/devices/virtio/fuzz_support.h) runs the walker over the
// bytes and aborts if a chain it hands out breaks one of its promises (inside guest RAM,
// readable before writable, lengths summed right).
#include <cstddef>
#include <cstdint>
#include <span>

#include "vmm/devices/virtio/fuzz_support.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  (void)bulkhead::vmm::FuzzVirtqueue(std::span<const uint8_t>(data, size));
  return 0;
}
