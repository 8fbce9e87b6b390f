// Byte-level access to a popped descriptor chain. Its readable buffers form
// one byte stream and its writable buffers another; devices address both by
// offset, so a request is handled the same however the driver split it into
// descriptors (virtio 1.x drivers may lay out messages freely, section 2.6.4).
#pragma once

#include <sys/uio.h>

#include <cstdint>
#include <span>
#include <vector>

#include "base/result.h"
#include "vmm/devices/virtio/queue.h"
#include "vmm/memory/guest_memory.h"

namespace bulkhead::vmm {

// Copies out.size() bytes from the readable stream, starting at `offset`.
Status ReadFromChain(const GuestMemory& mem, const DescriptorChain& chain, uint64_t offset,
                     std::span<uint8_t> out);
// Copies `in` into the writable stream at `offset`.
Status WriteToChain(GuestMemory& mem, const DescriptorChain& chain, uint64_t offset,
                    std::span<const uint8_t> in);

// Host iovecs for [offset, offset+len) of the readable (writable=false) or the
// writable stream, pointing straight into guest memory for one readv/preadv/
// writev/pwritev that follows at once; never keep them.
Result<std::vector<iovec>> ChainIovecs(GuestMemory& mem, const DescriptorChain& chain, bool writable,
                                       uint64_t offset, uint64_t len);

}  // namespace bulkhead::vmm
