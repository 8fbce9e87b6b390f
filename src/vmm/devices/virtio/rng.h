// virtio-rng (device type 4): one request queue; each chain's writable
// buffers are filled from the host kernel's getrandom(2), at most
// kMaxBytesPerRequest per chain, and returned with the count written.
#pragma once

#include <cstdint>
#include <span>

#include "vmm/devices/virtio/device.h"

namespace bulkhead::vmm {

class VirtioRng : public VirtioDevice {
 public:
  static constexpr uint32_t kMaxBytesPerRequest = 64 * 1024;

  VirtioRng() = default;

  uint32_t device_type() const override { return kVirtioIdRng; }
  uint16_t queue_count() const override { return 1; }
  uint64_t features() const override { return kVirtioFVersion1; }
  uint32_t config_size() const override { return 0; }
  void ReadConfig(uint64_t, std::span<uint8_t>) const override {}
  Status Activate(uint64_t) override { return Ok(); }
  Result<QueueWork> ProcessQueue(uint16_t index, GuestMemory& mem, std::span<Virtqueue> queues) override;
  void Reset() override {}
};

}  // namespace bulkhead::vmm
