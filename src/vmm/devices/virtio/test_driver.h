// Test-only: a virtio-mmio driver that speaks to an MmioTransport through
// register reads and writes exactly as Linux's virtio_mmio does.
#pragma once

#include <gtest/gtest.h>

#include <cstring>
#include <vector>

#include "vmm/devices/virtio/mmio.h"
#include "vmm/devices/virtio/test_ring.h"

namespace bulkhead::vmm::testing {

class TestDriver {
 public:
  explicit TestDriver(MmioTransport& t) : t_(t) {}

  uint32_t Read32(uint64_t off) {
    uint8_t b[4];
    t_.Read(off, b);
    uint32_t v;
    memcpy(&v, b, 4);
    return v;
  }
  void Write32(uint64_t off, uint32_t v) {
    uint8_t b[4];
    memcpy(b, &v, 4);
    t_.Write(off, b);
  }

  uint64_t DeviceFeatures() {
    Write32(mmio::kDeviceFeaturesSel, 1);
    uint64_t f = static_cast<uint64_t>(Read32(mmio::kDeviceFeatures)) << 32;
    Write32(mmio::kDeviceFeaturesSel, 0);
    return f | Read32(mmio::kDeviceFeatures);
  }

  // reset, ACKNOWLEDGE, DRIVER, features, FEATURES_OK. False when the device
  // refused the features.
  bool Negotiate(uint64_t features) {
    Write32(mmio::kStatus, 0);
    Write32(mmio::kStatus, kStatusAcknowledge);
    Write32(mmio::kStatus, kStatusAcknowledge | kStatusDriver);
    Write32(mmio::kDriverFeaturesSel, 1);
    Write32(mmio::kDriverFeatures, static_cast<uint32_t>(features >> 32));
    Write32(mmio::kDriverFeaturesSel, 0);
    Write32(mmio::kDriverFeatures, static_cast<uint32_t>(features));
    Write32(mmio::kStatus, kStatusAcknowledge | kStatusDriver | kStatusFeaturesOk);
    return (Read32(mmio::kStatus) & kStatusFeaturesOk) != 0;
  }

  void SetupQueue(uint16_t index, const TestRing& ring) {
    Write32(mmio::kQueueSel, index);
    EXPECT_EQ(Read32(mmio::kQueueReady), 0u);
    EXPECT_GE(Read32(mmio::kQueueNumMax), ring.size());
    Write32(mmio::kQueueNum, ring.size());
    Write32(mmio::kQueueDescLow, static_cast<uint32_t>(ring.desc()));
    Write32(mmio::kQueueDescHigh, static_cast<uint32_t>(ring.desc() >> 32));
    Write32(mmio::kQueueDriverLow, static_cast<uint32_t>(ring.avail()));
    Write32(mmio::kQueueDriverHigh, static_cast<uint32_t>(ring.avail() >> 32));
    Write32(mmio::kQueueDeviceLow, static_cast<uint32_t>(ring.used()));
    Write32(mmio::kQueueDeviceHigh, static_cast<uint32_t>(ring.used() >> 32));
    Write32(mmio::kQueueReady, 1);
  }

  void DriverOk() {
    Write32(mmio::kStatus, kStatusAcknowledge | kStatusDriver | kStatusFeaturesOk | kStatusDriverOk);
  }

  // The whole bring-up; true when the device ends in DRIVER_OK.
  bool Init(uint64_t features, const std::vector<const TestRing*>& rings) {
    if (!Negotiate(features)) return false;
    for (size_t i = 0; i < rings.size(); ++i) SetupQueue(static_cast<uint16_t>(i), *rings[i]);
    DriverOk();
    return Read32(mmio::kStatus) == (kStatusAcknowledge | kStatusDriver | kStatusFeaturesOk | kStatusDriverOk);
  }

  // The driver's kick, then what the event loop does when the notify eventfd fires.
  void Notify(uint16_t q) {
    Write32(mmio::kQueueNotify, q);
    t_.ProcessQueue(q);
  }

  // What an interrupt handler does: read the cause, acknowledge it.
  uint32_t TakeInterrupt() {
    uint32_t s = Read32(mmio::kInterruptStatus);
    Write32(mmio::kInterruptAck, s);
    return s;
  }

 private:
  MmioTransport& t_;
};

// How often an eventfd fired since the last call (non-blocking read).
inline uint64_t Fired(int fd) {
  uint64_t v = 0;
  return read(fd, &v, sizeof v) == static_cast<ssize_t>(sizeof v) ? v : 0;
}

}  // namespace bulkhead::vmm::testing
