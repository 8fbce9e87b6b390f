#include "vmm/devices/bus.h"

#include <iterator>
#include <string>
#include <utility>

#include "vmm/memory/hex.h"

namespace bulkhead::vmm {

Status Bus::Insert(std::shared_ptr<BusDevice> device, uint64_t base, uint64_t len) {
  const std::string what = "bus range " + Hex(base) + "+" + Hex(len);
  if (!device) return Error(what + ": no device");
  if (len == 0 || len - 1 > UINT64_MAX - base) return Error(what + " is empty or wraps");
  const uint64_t last = base + (len - 1);
  // The first range at or after base must start past our end, and the one
  // before it must end before base.
  auto next = ranges_.lower_bound(base);
  if (next != ranges_.end() && next->first <= last) {
    return Error(what + " overlaps the range at " + Hex(next->first));
  }
  if (next != ranges_.begin()) {
    auto prev = std::prev(next);
    if (prev->first + (prev->second.len - 1) >= base) {
      return Error(what + " overlaps the range at " + Hex(prev->first));
    }
  }
  ranges_.emplace(base, Range{len, std::move(device)});
  return Ok();
}

std::optional<Bus::Target> Bus::Find(uint64_t addr, uint64_t len) const {
  auto it = ranges_.upper_bound(addr);  // first base > addr
  if (it == ranges_.begin()) return std::nullopt;
  --it;
  const uint64_t offset = addr - it->first;
  if (offset >= it->second.len) return std::nullopt;
  if (len > it->second.len - offset) return std::nullopt;
  return Target{it->second.device.get(), offset};
}

bool Bus::Read(uint64_t addr, std::span<uint8_t> data) const {
  auto target = Find(addr, data.size());
  if (!target) return false;
  target->device->Read(target->offset, data);
  return true;
}

bool Bus::Write(uint64_t addr, std::span<const uint8_t> data) const {
  auto target = Find(addr, data.size());
  if (!target) return false;
  target->device->Write(target->offset, data);
  return true;
}

}  // namespace bulkhead::vmm
