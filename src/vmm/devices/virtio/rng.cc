#include "vmm/devices/virtio/rng.h"

#include <sys/random.h>

#include <algorithm>

#include "base/syscall.h"
#include "vmm/devices/virtio/chain_io.h"

namespace bulkhead::vmm {
namespace {

// Fills the writable buffers of `chain` up to the per-request bound; returns
// how many bytes were written. GRND_NONBLOCK: an event loop must not wait for
// the host's entropy pool (initialized long before any VM starts anyway).
uint32_t Fill(GuestMemory& mem, const DescriptorChain& chain) {
  const uint64_t want = std::min<uint64_t>(chain.writable_bytes, VirtioRng::kMaxBytesPerRequest);
  auto iov = ChainIovecs(mem, chain, /*writable=*/true, 0, want);
  if (!iov.ok()) return 0;
  uint64_t done = 0;
  for (const iovec& v : *iov) {
    size_t got = 0;
    while (got < v.iov_len) {
      ssize_t n = RetryEintr(
          [&] { return getrandom(static_cast<uint8_t*>(v.iov_base) + got, v.iov_len - got, GRND_NONBLOCK); });
      if (n <= 0) return static_cast<uint32_t>(done + got);
      got += static_cast<size_t>(n);
    }
    done += got;
  }
  return static_cast<uint32_t>(done);
}

}  // namespace

Result<QueueWork> VirtioRng::ProcessQueue(uint16_t index, GuestMemory& mem, std::span<Virtqueue> queues) {
  if (index != 0 || queues.empty()) return QueueWork::kDone;
  Virtqueue& q = queues[0];
  for (uint32_t n = 0; n < kQueueBudget; ++n) {
    BH_ASSIGN(auto chain, q.Pop(mem));
    if (!chain) return QueueWork::kDone;
    BH_TRY(q.AddUsed(mem, chain->head, Fill(mem, *chain)));
  }
  return QueueWork::kMore;
}

}  // namespace bulkhead::vmm
