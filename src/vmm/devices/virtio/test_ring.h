// Test-only: the driver's side of a split virtqueue, written into guest memory
// the way a guest driver lays it out, so tests exercise the device against
// real ring bytes.
#pragma once

#include <gtest/gtest.h>

#include <cstdint>

#include "vmm/devices/virtio/queue.h"
#include "vmm/memory/guest_memory.h"

namespace bulkhead::vmm::testing {

inline constexpr uint16_t kDescNext = 1;
inline constexpr uint16_t kDescWrite = 2;
inline constexpr uint16_t kDescIndirect = 4;

// One guest memory region of `bytes` at address 0.
inline GuestMemory MakeMemory(uint64_t bytes = 1 << 20) {
  auto mem = GuestMemory::Create({{GuestAddress(0), bytes}});
  EXPECT_TRUE(mem.ok()) << mem.error().message();
  return std::move(mem).value();
}

class TestRing {
 public:
  TestRing(GuestMemory& mem, uint16_t size, uint64_t desc, uint64_t avail, uint64_t used)
      : mem_(mem), size_(size), desc_(desc), avail_(avail), used_(used) {}

  uint16_t size() const { return size_; }
  uint64_t desc() const { return desc_; }
  uint64_t avail() const { return avail_; }
  uint64_t used() const { return used_; }

  // Points a device-side queue at this ring.
  void Configure(Virtqueue& q) const {
    q.set_size(size_);
    q.set_desc_table(GuestAddress(desc_));
    q.set_avail_ring(GuestAddress(avail_));
    q.set_used_ring(GuestAddress(used_));
  }

  void SetDesc(uint16_t i, uint64_t addr, uint32_t len, uint16_t flags = 0, uint16_t next = 0) {
    WriteDescAt(desc_ + 16ull * i, addr, len, flags, next);
  }
  void WriteDescAt(uint64_t where, uint64_t addr, uint32_t len, uint16_t flags, uint16_t next) {
    ASSERT_TRUE(mem_.WriteObj<uint64_t>(GuestAddress(where), addr).ok());
    ASSERT_TRUE(mem_.WriteObj<uint32_t>(GuestAddress(where + 8), len).ok());
    ASSERT_TRUE(mem_.WriteObj<uint16_t>(GuestAddress(where + 12), flags).ok());
    ASSERT_TRUE(mem_.WriteObj<uint16_t>(GuestAddress(where + 14), next).ok());
  }

  // Puts `head` in the next avail slot and publishes it.
  void Publish(uint16_t head) {
    ASSERT_TRUE(mem_.WriteObj<uint16_t>(GuestAddress(avail_ + 4 + 2ull * (avail_idx_ % size_)), head).ok());
    SetAvailIdx(static_cast<uint16_t>(avail_idx_ + 1));
  }
  void SetAvailIdx(uint16_t idx) {
    avail_idx_ = idx;
    ASSERT_TRUE(mem_.WriteObj<uint16_t>(GuestAddress(avail_ + 2), idx).ok());
  }
  void SetAvailFlags(uint16_t flags) { ASSERT_TRUE(mem_.WriteObj<uint16_t>(GuestAddress(avail_), flags).ok()); }

  uint16_t UsedIdx() const { return *mem_.ReadObj<uint16_t>(GuestAddress(used_ + 2)); }
  // The used element written for the i-th completion (i counts from 0, wraps).
  uint32_t UsedId(uint16_t i) const { return *mem_.ReadObj<uint32_t>(GuestAddress(UsedSlot(i))); }
  uint32_t UsedLen(uint16_t i) const { return *mem_.ReadObj<uint32_t>(GuestAddress(UsedSlot(i) + 4)); }

 private:
  uint64_t UsedSlot(uint16_t i) const { return used_ + 4 + 8ull * (i % size_); }

  GuestMemory& mem_;
  uint16_t size_;
  uint64_t desc_, avail_, used_;
  uint16_t avail_idx_ = 0;
};

}  // namespace bulkhead::vmm::testing
