// A guest-physical address as its own type: arithmetic on it is checked, so a
// length or offset that the guest controls cannot wrap around.
#pragma once

#include <compare>
#include <cstdint>
#include <optional>

namespace bulkhead::vmm {

class GuestAddress {
 public:
  constexpr GuestAddress() = default;
  constexpr explicit GuestAddress(uint64_t raw) : raw_(raw) {}

  constexpr uint64_t raw() const { return raw_; }

  // nullopt when the sum does not fit in 64 bits.
  constexpr std::optional<GuestAddress> CheckedAdd(uint64_t offset) const {
    if (offset > UINT64_MAX - raw_) return std::nullopt;
    return GuestAddress(raw_ + offset);
  }
  // Offset of this address from `base`; nullopt when below it.
  constexpr std::optional<uint64_t> OffsetFrom(GuestAddress base) const {
    if (raw_ < base.raw_) return std::nullopt;
    return raw_ - base.raw_;
  }
  // For the fixed, known-good constants of the layout only: never for guest input.
  constexpr GuestAddress Plus(uint64_t offset) const { return GuestAddress(raw_ + offset); }

  constexpr auto operator<=>(const GuestAddress&) const = default;

 private:
  uint64_t raw_ = 0;
};

}  // namespace bulkhead::vmm
