#include "vmm/devices/virtio/queue.h"

#include <bit>
#include <string>

namespace bulkhead::vmm {
namespace {

static_assert(std::endian::native == std::endian::little, "virtio rings are little-endian");

// One descriptor table entry, as laid out in guest memory (section 2.7.5).
struct RawDescriptor {
  uint64_t addr;
  uint32_t len;
  uint16_t flags;
  uint16_t next;
};
static_assert(sizeof(RawDescriptor) == 16);

constexpr uint16_t kDescNext = 1;
constexpr uint16_t kDescWrite = 2;
constexpr uint16_t kDescIndirect = 4;
constexpr uint16_t kAvailNoInterrupt = 1;

// Ring layout: flags and idx (2 bytes each) lead both rings; the avail ring
// has 2-byte entries, the used ring 8-byte ones; each ends with a 2-byte
// event field (present in memory even when VIRTIO_F_EVENT_IDX is off).
constexpr uint64_t kRingHeader = 4;
constexpr uint64_t DescTableBytes(uint64_t n) { return 16 * n; }
constexpr uint64_t AvailRingBytes(uint64_t n) { return kRingHeader + 2 * n + 2; }
constexpr uint64_t UsedRingBytes(uint64_t n) { return kRingHeader + 8 * n + 2; }

// A 16-bit ring index in guest memory, read or written in one access with the
// ordering the driver pairs with (validated rings are 2-byte aligned, and the
// host mapping keeps the guest address's alignment).
// Both are sequentially consistent: besides acquire/release they order our
// used->idx store before our later read of avail->flags (x86: the store is an
// xchg), which the interrupt-suppression handshake needs.
std::optional<uint16_t> LoadIndex(const GuestMemory& mem, GuestAddress addr) {
  auto bytes = mem.Slice(addr, 2);
  if (!bytes.ok()) return std::nullopt;
  return __atomic_load_n(reinterpret_cast<const uint16_t*>(bytes->data()), __ATOMIC_SEQ_CST);
}

bool StoreIndex(GuestMemory& mem, GuestAddress addr, uint16_t value) {
  auto bytes = mem.Slice(addr, 2);
  if (!bytes.ok()) return false;
  __atomic_store_n(reinterpret_cast<uint16_t*>(bytes->data()), value, __ATOMIC_SEQ_CST);
  return true;
}

}  // namespace

Virtqueue::Virtqueue(uint16_t max_size) : max_size_(max_size), size_(max_size) {}

Status Virtqueue::Validate(const GuestMemory& mem) const {
  if (size_ == 0 || size_ > max_size_ || !std::has_single_bit(size_)) {
    return Error("queue size " + std::to_string(size_) + " is not a power of two up to " +
                 std::to_string(max_size_));
  }
  struct Ring {
    const char* name;
    GuestAddress addr;
    uint64_t align;
    uint64_t bytes;
  };
  const Ring rings[] = {{"descriptor table", desc_, 16, DescTableBytes(size_)},
                        {"available ring", avail_, 2, AvailRingBytes(size_)},
                        {"used ring", used_, 4, UsedRingBytes(size_)}};
  for (const Ring& r : rings) {
    if (r.addr.raw() % r.align != 0) {
      return Error(std::string(r.name) + " address is not " + std::to_string(r.align) + "-byte aligned");
    }
    if (!mem.Contains(r.addr, r.bytes)) return Error(std::string(r.name) + " is outside guest memory");
  }
  return Ok();
}

Status Virtqueue::Activate(const GuestMemory& mem, bool indirect) {
  BH_TRY(Validate(mem));
  active_ = true;
  indirect_ = indirect;
  return Ok();
}

void Virtqueue::Reset() {
  size_ = max_size_;
  ready_ = false;
  desc_ = avail_ = used_ = GuestAddress(0);
  active_ = indirect_ = broken_ = interrupt_due_ = false;
  next_avail_ = avail_idx_ = next_used_ = 0;
}

Error Virtqueue::Break(const std::string& why) {
  broken_ = true;
  return Error("virtqueue: " + why);
}

Result<std::optional<DescriptorChain>> Virtqueue::Pop(const GuestMemory& mem) {
  if (broken_) return Error("virtqueue is broken and needs a reset");
  if (!active_) return Error("virtqueue is not active");
  if (next_avail_ == avail_idx_) {
    auto idx = LoadIndex(mem, avail_.Plus(2));  // rings were validated inside memory
    if (!idx) return Break("available ring is outside guest memory");
    // The driver can be at most a whole ring ahead of us.
    if (static_cast<uint16_t>(*idx - next_avail_) > size_) {
      return Break("available index " + std::to_string(*idx) + " is more than a ring ahead of " +
                   std::to_string(next_avail_));
    }
    avail_idx_ = *idx;
    if (next_avail_ == avail_idx_) return std::optional<DescriptorChain>();
  }
  const uint64_t slot = next_avail_ % size_;
  auto head = mem.ReadObj<uint16_t>(avail_.Plus(kRingHeader + 2 * slot));
  if (!head.ok()) return Break("available ring is outside guest memory");
  if (*head >= size_) return Break("chain head " + std::to_string(*head) + " is outside the descriptor table");
  ++next_avail_;

  DescriptorChain chain;
  chain.head = *head;
  uint16_t index = *head;
  for (uint32_t hops = 0;; ++hops) {
    if (hops >= size_) return Break("descriptor chain loops or is longer than the queue");
    auto raw = mem.ReadObj<RawDescriptor>(desc_.Plus(DescTableBytes(index)));
    if (!raw.ok()) return Break("descriptor table is outside guest memory");
    if ((raw->flags & kDescIndirect) != 0) {
      // Only as the one descriptor of a chain, as the spec's drivers place it.
      if (hops != 0 || (raw->flags & kDescNext) != 0) {
        return Break("indirect descriptor chained to other descriptors");
      }
      BH_TRY(WalkIndirect(mem, raw->addr, raw->len, chain));
      break;
    }
    BH_TRY(AppendDescriptor(mem, raw->addr, raw->len, (raw->flags & kDescWrite) != 0, chain));
    if ((raw->flags & kDescNext) == 0) break;
    if (raw->next >= size_) return Break("next index " + std::to_string(raw->next) + " is outside the table");
    index = raw->next;
  }
  return std::optional<DescriptorChain>(std::move(chain));
}

Status Virtqueue::WalkIndirect(const GuestMemory& mem, uint64_t addr, uint32_t len,
                               DescriptorChain& chain) {
  if (!indirect_) return Break("indirect descriptor without VIRTIO_F_INDIRECT_DESC");
  if (len == 0 || len % sizeof(RawDescriptor) != 0 || len / sizeof(RawDescriptor) > kMaxIndirect) {
    return Break("indirect table of " + std::to_string(len) + " bytes");
  }
  const uint32_t count = len / static_cast<uint32_t>(sizeof(RawDescriptor));
  // Copy the whole table once: the driver cannot change it under the walk.
  std::vector<RawDescriptor> table(count);
  Status read = mem.Read(GuestAddress(addr), std::span<uint8_t>(reinterpret_cast<uint8_t*>(table.data()), len));
  if (!read.ok()) return Break("indirect table is outside guest memory");
  uint32_t index = 0;
  for (uint32_t hops = 0;; ++hops) {
    if (hops >= count) return Break("indirect chain loops");
    const RawDescriptor& d = table[index];
    if ((d.flags & kDescIndirect) != 0) return Break("nested indirect table");
    BH_TRY(AppendDescriptor(mem, d.addr, d.len, (d.flags & kDescWrite) != 0, chain));
    if ((d.flags & kDescNext) == 0) return Ok();
    if (d.next >= count) return Break("indirect next index outside its table");
    index = d.next;
  }
}

Status Virtqueue::AppendDescriptor(const GuestMemory& mem, uint64_t addr, uint32_t len, bool writable,
                                   DescriptorChain& chain) {
  if (!mem.Contains(GuestAddress(addr), len)) return Break("buffer outside guest memory");
  if (!writable && !chain.descriptors.empty() && chain.descriptors.back().writable) {
    return Break("device-readable buffer after a writable one");
  }
  // At most 256 + 256 entries of at most 4 GiB each: the sums fit in 64 bits.
  (writable ? chain.writable_bytes : chain.readable_bytes) += len;
  chain.descriptors.push_back({GuestAddress(addr), len, writable});
  return Ok();
}

Status Virtqueue::AddUsed(GuestMemory& mem, uint16_t head, uint32_t len) {
  if (!active_ || broken_) return Error("virtqueue is not usable");
  if (head >= size_) return Error("used head " + std::to_string(head) + " is outside the table");
  struct {
    uint32_t id;
    uint32_t len;
  } elem{head, len};
  const uint64_t slot = next_used_ % size_;
  if (!mem.WriteObj(used_.Plus(kRingHeader + 8 * slot), elem).ok()) {
    return Break("used ring is outside guest memory");
  }
  // The entry must be visible before the index that publishes it.
  ++next_used_;
  if (!StoreIndex(mem, used_.Plus(2), next_used_)) return Break("used ring is outside guest memory");
  interrupt_due_ = true;
  return Ok();
}

bool Virtqueue::TakeInterruptNeeded(const GuestMemory& mem) {
  if (!interrupt_due_) return false;
  interrupt_due_ = false;
  // Read after our used->idx store (LoadIndex/StoreIndex order them), pairing
  // with the driver re-checking the used ring after it clears NO_INTERRUPT.
  auto flags = LoadIndex(mem, avail_);
  return !flags || (*flags & kAvailNoInterrupt) == 0;
}

}  // namespace bulkhead::vmm
