// A split virtqueue (virtio 1.x, section 2.7) as the device sees it. The
// driver owns the rings in guest memory and can rewrite them at any moment, so
// every index and descriptor is copied out once, checked, and only the copy is
// used. Pop() hands out a DescriptorChain: its head, and each buffer already
// checked to lie inside guest memory, device-readable ones before writable ones.
//
// A driver that breaks the ring protocol (an avail index that jumps further
// than the ring holds, a head or next index outside the table, a chain that
// loops or runs longer than the ring, an indirect table that is misaligned,
// too long or nested, a buffer outside guest memory, a readable buffer after a
// writable one) gets a broken queue: Pop() fails from then on and the
// transport asks the driver for a reset (DEVICE_NEEDS_RESET).
//
// Not thread-safe: the transport calls it under its lock.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "base/result.h"
#include "vmm/memory/guest_address.h"
#include "vmm/memory/guest_memory.h"

namespace bulkhead::vmm {

struct Descriptor {
  GuestAddress addr;
  uint32_t len = 0;
  bool writable = false;  // device-writable (VIRTQ_DESC_F_WRITE)
};

struct DescriptorChain {
  uint16_t head = 0;                    // what goes back in the used ring
  std::vector<Descriptor> descriptors;  // readable ones, then writable ones
  uint64_t readable_bytes = 0;
  uint64_t writable_bytes = 0;
};

class Virtqueue {
 public:
  // Largest indirect table accepted (entries); Linux sizes them by segment count.
  static constexpr uint32_t kMaxIndirect = 256;
  // Largest ring any device here offers.
  static constexpr uint16_t kMaxSizeLimit = 256;

  // `max_size`: what QueueNumMax reports; a power of two, at most kMaxSizeLimit.
  explicit Virtqueue(uint16_t max_size);

  // Configuration written by the driver through the transport; the setters
  // are ignored while the queue is active, so a validated ring cannot move.
  uint16_t max_size() const { return max_size_; }
  uint16_t size() const { return size_; }
  void set_size(uint16_t size) {
    if (!active_) size_ = size;
  }
  bool ready() const { return ready_; }
  void set_ready(bool ready) {
    if (!active_) ready_ = ready;
  }
  GuestAddress desc_table() const { return desc_; }
  GuestAddress avail_ring() const { return avail_; }
  GuestAddress used_ring() const { return used_; }
  void set_desc_table(GuestAddress a) {
    if (!active_) desc_ = a;
  }
  void set_avail_ring(GuestAddress a) {
    if (!active_) avail_ = a;
  }
  void set_used_ring(GuestAddress a) {
    if (!active_) used_ = a;
  }

  // Checks the configuration: size a power of two no larger than max_size,
  // each ring aligned as the spec requires and wholly inside guest memory.
  Status Validate(const GuestMemory& mem) const;
  // Validates, then starts using the queue; indirect descriptors are accepted
  // only when VIRTIO_F_INDIRECT_DESC was negotiated.
  Status Activate(const GuestMemory& mem, bool indirect);
  bool active() const { return active_; }
  // Back to the state after a device reset (size max_size, not ready).
  void Reset();

  // The next available chain, or nullopt when the driver has posted nothing new.
  Result<std::optional<DescriptorChain>> Pop(const GuestMemory& mem);
  // Returns a chain to the driver: `len` bytes were written into its buffers.
  Status AddUsed(GuestMemory& mem, uint16_t head, uint32_t len);
  // True when used entries were added since the last call and the driver has
  // not suppressed interrupts (VIRTQ_AVAIL_F_NO_INTERRUPT); clears the mark.
  bool TakeInterruptNeeded(const GuestMemory& mem);

  bool broken() const { return broken_; }
  uint16_t next_avail() const { return next_avail_; }
  uint16_t next_used() const { return next_used_; }

 private:
  Error Break(const std::string& why);
  Status AppendDescriptor(const GuestMemory& mem, uint64_t addr, uint32_t len, bool writable,
                          DescriptorChain& chain);
  Status WalkIndirect(const GuestMemory& mem, uint64_t addr, uint32_t len, DescriptorChain& chain);

  const uint16_t max_size_;
  uint16_t size_;
  bool ready_ = false;
  GuestAddress desc_, avail_, used_;

  bool active_ = false;
  bool indirect_ = false;
  bool broken_ = false;
  bool interrupt_due_ = false;
  uint16_t next_avail_ = 0;   // our copy of the next avail ring slot to read
  uint16_t avail_idx_ = 0;    // the driver's avail->idx as last read
  uint16_t next_used_ = 0;    // our used->idx
};

}  // namespace bulkhead::vmm
