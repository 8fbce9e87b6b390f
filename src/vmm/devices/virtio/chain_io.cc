#include "vmm/devices/virtio/chain_io.h"

#include <algorithm>
#include <cstring>

namespace bulkhead::vmm {
namespace {

// Calls fn(host span) for each piece of [offset, offset+len) of one stream.
// Mem is GuestMemory or const GuestMemory, so reads need no writable memory.
template <class Mem, class Fn>
Status ForEachPiece(Mem& mem, const DescriptorChain& chain, bool writable, uint64_t offset, uint64_t len,
                    Fn fn) {
  const uint64_t total = writable ? chain.writable_bytes : chain.readable_bytes;
  if (offset > total || len > total - offset) return Error("range runs past the buffers of the chain");
  uint64_t skip = offset;
  for (const Descriptor& d : chain.descriptors) {
    if (len == 0) break;
    if (d.writable != writable) continue;
    if (skip >= d.len) {
      skip -= d.len;
      continue;
    }
    const uint64_t take = std::min<uint64_t>(d.len - skip, len);
    auto addr = d.addr.CheckedAdd(skip);
    if (!addr) return Error("buffer address overflows");
    BH_ASSIGN(auto host, mem.Slice(*addr, take));
    fn(host);
    len -= take;
    skip = 0;
  }
  return Ok();
}

}  // namespace

Result<std::vector<iovec>> ChainIovecs(GuestMemory& mem, const DescriptorChain& chain, bool writable,
                                       uint64_t offset, uint64_t len) {
  std::vector<iovec> iov;
  BH_TRY(ForEachPiece(mem, chain, writable, offset, len,
                      [&](std::span<uint8_t> host) { iov.push_back({host.data(), host.size()}); }));
  return iov;
}

Status ReadFromChain(const GuestMemory& mem, const DescriptorChain& chain, uint64_t offset,
                     std::span<uint8_t> out) {
  size_t done = 0;
  return ForEachPiece(mem, chain, false, offset, out.size(), [&](std::span<const uint8_t> host) {
    memcpy(out.data() + done, host.data(), host.size());
    done += host.size();
  });
}

Status WriteToChain(GuestMemory& mem, const DescriptorChain& chain, uint64_t offset,
                    std::span<const uint8_t> in) {
  size_t done = 0;
  return ForEachPiece(mem, chain, true, offset, in.size(), [&](std::span<uint8_t> host) {
    memcpy(host.data(), in.data() + done, host.size());
    done += host.size();
  });
}

}  // namespace bulkhead::vmm
