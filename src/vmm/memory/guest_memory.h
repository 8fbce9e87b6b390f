// Guest RAM: anonymous mappings placed at guest-physical ranges. Every access by
// the monitor goes through this object and is bounds-checked; callers copy a guest
// structure out once (ReadObj), validate the copy and act on it.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <span>
#include <type_traits>
#include <vector>

#include "base/result.h"
#include "vmm/memory/guest_address.h"

namespace bulkhead::vmm {

struct GuestRange {
  GuestAddress start;
  uint64_t size = 0;
};

class GuestMemory {
 public:
  struct Region {
    GuestAddress start;
    uint64_t size = 0;
    uint8_t* host = nullptr;  // the mapping; owned by GuestMemory
  };

  // Maps one private anonymous region per range (sorted, non-overlapping,
  // page-aligned, non-empty).
  static Result<GuestMemory> Create(const std::vector<GuestRange>& ranges);

  GuestMemory() = default;
  GuestMemory(GuestMemory&& other) noexcept;
  GuestMemory& operator=(GuestMemory&& other) noexcept;
  GuestMemory(const GuestMemory&) = delete;
  GuestMemory& operator=(const GuestMemory&) = delete;
  ~GuestMemory();

  const std::vector<Region>& regions() const { return regions_; }
  uint64_t total_size() const;

  // True when [addr, addr+len) lies inside one region (len 0 counts when addr does).
  bool Contains(GuestAddress addr, uint64_t len) const;

  Status Read(GuestAddress addr, std::span<uint8_t> out) const;
  Status Write(GuestAddress addr, std::span<const uint8_t> in);

  template <class T>
  Result<T> ReadObj(GuestAddress addr) const {
    static_assert(std::is_trivially_copyable_v<T>);
    T value;
    BH_TRY(Read(addr, std::span<uint8_t>(reinterpret_cast<uint8_t*>(&value), sizeof(T))));
    return value;
  }
  template <class T>
  Status WriteObj(GuestAddress addr, const T& value) {
    static_assert(std::is_trivially_copyable_v<T>);
    return Write(addr, std::span<const uint8_t>(reinterpret_cast<const uint8_t*>(&value), sizeof(T)));
  }

  // The host bytes backing [addr, addr+len), for one transient system call
  // (pread/pwrite straight into guest RAM). Never store the span.
  Result<std::span<uint8_t>> Slice(GuestAddress addr, uint64_t len);
  Result<std::span<const uint8_t>> Slice(GuestAddress addr, uint64_t len) const;

 private:
  const Region* Find(GuestAddress addr, uint64_t len) const;
  void Unmap();

  std::vector<Region> regions_;
};

}  // namespace bulkhead::vmm
