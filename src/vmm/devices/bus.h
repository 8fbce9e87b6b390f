// The port-I/O and MMIO buses: which device answers an access at an address.
// vCPU threads look devices up concurrently; the map is filled by the builder
// before any vCPU runs and never changes afterwards, so lookups take no lock.
// Each device guards its own state against the vCPUs and the event loop.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <span>

#include "base/result.h"

namespace bulkhead::vmm {

class BusDevice {
 public:
  virtual ~BusDevice() = default;
  // `offset` is relative to the base the device was inserted at; data.size()
  // is the access width (1, 2, 4 or 8). Reads fill all of `data`.
  virtual void Read(uint64_t offset, std::span<uint8_t> data) = 0;
  virtual void Write(uint64_t offset, std::span<const uint8_t> data) = 0;
};

class Bus {
 public:
  struct Target {
    BusDevice* device = nullptr;
    uint64_t offset = 0;  // from the device's base
  };

  // Maps [base, base+len) to `device`; refuses an empty or wrapping range and
  // one that overlaps a range already mapped.
  Status Insert(std::shared_ptr<BusDevice> device, uint64_t base, uint64_t len);

  // The device whose range holds all of [addr, addr+len); nullopt otherwise
  // (nothing there, or an access straddling a range's end).
  std::optional<Target> Find(uint64_t addr, uint64_t len) const;

  // Dispatch an access. False when no device takes it; a read then leaves
  // `data` alone (the vCPU loop decides what unclaimed reads return).
  bool Read(uint64_t addr, std::span<uint8_t> data) const;
  bool Write(uint64_t addr, std::span<const uint8_t> data) const;

 private:
  struct Range {
    uint64_t len = 0;
    std::shared_ptr<BusDevice> device;
  };
  std::map<uint64_t, Range> ranges_;  // keyed by base
};

}  // namespace bulkhead::vmm
