#include "vmm/devices/virtio/fuzz_support.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <vector>

#include "base/unique_fd.h"
#include "vmm/devices/event_fd.h"
#include "vmm/devices/virtio/block.h"
#include "vmm/devices/virtio/mmio.h"
#include "vmm/devices/virtio/queue.h"

namespace bulkhead::vmm {
namespace {

constexpr uint64_t kGuestBytes = 64 * 1024;
constexpr size_t kControlBytes = 8;
constexpr uint64_t kDiskBytes = 64 * 512;

// Fails loudly: a fuzz target must see a broken invariant as a crash.
void Check(bool ok) {
  if (!ok) abort();
}

bool MakeGuest(std::span<const uint8_t> data, GuestMemory& mem) {
  auto created = GuestMemory::Create({{GuestAddress(0), kGuestBytes}});
  if (!created.ok()) return false;
  mem = std::move(*created);
  if (data.size() > kControlBytes) {
    auto body = data.subspan(kControlBytes, std::min<size_t>(data.size() - kControlBytes, kGuestBytes));
    Check(mem.Write(GuestAddress(0), body).ok());
  }
  return true;
}

uint16_t QueueSize(uint8_t b) { return static_cast<uint16_t>(1u << (b % 9)); }

uint64_t Place(std::span<const uint8_t> data, size_t at) {
  // Page-ish granularity with a few odd low bits kept, so alignment checks run.
  const uint16_t v = static_cast<uint16_t>(data[at] | (data[at + 1] << 8));
  return (static_cast<uint64_t>(v >> 4) << 8) | (v & 0xf);
}

// The walker's promises about every chain it hands out.
void CheckChain(const GuestMemory& mem, const DescriptorChain& c, uint16_t size) {
  Check(c.head < size);
  Check(c.descriptors.size() <= std::max<uint32_t>(size, Virtqueue::kMaxIndirect));
  uint64_t readable = 0, writable = 0;
  bool seen_writable = false;
  for (const Descriptor& d : c.descriptors) {
    Check(mem.Contains(d.addr, d.len));
    Check(d.writable || !seen_writable);
    seen_writable = seen_writable || d.writable;
    (d.writable ? writable : readable) += d.len;
  }
  Check(readable == c.readable_bytes && writable == c.writable_bytes);
}

}  // namespace

uint32_t FuzzVirtqueue(std::span<const uint8_t> data) {
  if (data.size() < kControlBytes) return 0;
  GuestMemory mem;
  if (!MakeGuest(data, mem)) return 0;
  Virtqueue q(Virtqueue::kMaxSizeLimit);
  const uint16_t size = QueueSize(data[0]);
  q.set_size(size);
  q.set_desc_table(GuestAddress(Place(data, 2)));
  q.set_avail_ring(GuestAddress(Place(data, 4)));
  q.set_used_ring(GuestAddress(Place(data, 6) & ~0xfull));
  if (!q.Activate(mem, (data[1] & 1) != 0).ok()) return 0;
  uint32_t popped = 0;
  // A ring holds at most `size` new chains per avail index read; the driver
  // cannot change memory here, so two rounds cover everything.
  for (uint32_t i = 0; i < 2u * size + 2; ++i) {
    auto chain = q.Pop(mem);
    if (!chain.ok()) {
      Check(q.broken());
      break;
    }
    if (!chain->has_value()) break;
    CheckChain(mem, **chain, size);
    ++popped;
    // The used ring may overlap whatever the input placed there; still fine.
    const uint32_t len = static_cast<uint32_t>(std::min<uint64_t>((*chain)->writable_bytes, UINT32_MAX));
    if (!q.AddUsed(mem, (*chain)->head, len).ok()) break;
  }
  (void)q.TakeInterruptNeeded(mem);
  return popped;
}

uint32_t FuzzBlockRequests(std::span<const uint8_t> data) {
  if (data.size() < kControlBytes) return 0;
  GuestMemory mem;
  if (!MakeGuest(data, mem)) return 0;
  const bool read_only = (data[1] & 1) != 0;
  const bool indirect = (data[1] & 2) != 0;
  const uint16_t size = QueueSize(data[0]);
  const uint32_t notifies = 1 + (static_cast<uint32_t>(data[2] | (data[3] << 8)) % 4);

  UniqueFd disk(memfd_create("bulkhead-fuzz-disk", MFD_CLOEXEC));
  if (!disk.valid() || ftruncate(disk.get(), kDiskBytes) != 0) return 0;
  if (read_only) {
    // A read-only disk insists on an O_RDONLY fd: reopen the memfd that way.
    std::string path = "/proc/self/fd/" + std::to_string(disk.get());
    disk = UniqueFd(open(path.c_str(), O_RDONLY | O_CLOEXEC));
    if (!disk.valid()) return 0;
  }
  auto block = VirtioBlock::Create(std::move(disk), read_only, "fuzz");
  auto irq = Interrupt::Create();
  if (!block.ok() || !irq.ok()) return 0;
  auto transport = MmioTransport::Create(mem, std::move(*block), std::move(*irq));
  if (!transport.ok()) return 0;
  MmioTransport& t = **transport;

  auto write32 = [&](uint64_t off, uint32_t v) {
    uint8_t b[4];
    memcpy(b, &v, 4);
    t.Write(off, b);
  };
  uint64_t features = kVirtioFVersion1 | kVirtioBlkFFlush | (read_only ? kVirtioBlkFRo : 0);
  if (indirect) features |= kVirtioFIndirectDesc;
  write32(mmio::kStatus, kStatusAcknowledge);
  write32(mmio::kStatus, kStatusAcknowledge | kStatusDriver);
  write32(mmio::kDriverFeaturesSel, 1);
  write32(mmio::kDriverFeatures, static_cast<uint32_t>(features >> 32));
  write32(mmio::kDriverFeaturesSel, 0);
  write32(mmio::kDriverFeatures, static_cast<uint32_t>(features));
  write32(mmio::kStatus, kStatusAcknowledge | kStatusDriver | kStatusFeaturesOk);
  write32(mmio::kQueueSel, 0);
  write32(mmio::kQueueNum, size);
  write32(mmio::kQueueDescLow, 0x0);
  write32(mmio::kQueueDriverLow, 0x1000);
  write32(mmio::kQueueDeviceLow, 0x2000);
  write32(mmio::kQueueReady, 1);
  write32(mmio::kStatus, kStatusAcknowledge | kStatusDriver | kStatusFeaturesOk | kStatusDriverOk);
  Check((t.status() & kStatusDriverOk) != 0);
  for (uint32_t i = 0; i < notifies; ++i) write32(mmio::kQueueNotify, 0);
  t.ProcessQueue(0);  // what the event loop does after a budget-limited round
  auto used = mem.ReadObj<uint16_t>(GuestAddress(0x2002));
  return used.ok() ? *used : 0;
}

}  // namespace bulkhead::vmm
