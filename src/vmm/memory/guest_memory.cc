#include "vmm/memory/guest_memory.h"

#include <sys/mman.h>
#include <unistd.h>

#include <string>
#include <utility>

#include "vmm/memory/hex.h"

namespace bulkhead::vmm {

Result<GuestMemory> GuestMemory::Create(const std::vector<GuestRange>& ranges) {
  const uint64_t page = static_cast<uint64_t>(sysconf(_SC_PAGESIZE));
  GuestMemory mem;
  uint64_t prev_end = 0;
  for (const GuestRange& r : ranges) {
    if (r.size == 0 || r.size % page != 0 || r.start.raw() % page != 0) {
      return Error("guest memory range at " + Hex(r.start.raw()) + " of " + Hex(r.size) +
                   " bytes is empty or not page-aligned");
    }
    auto end = r.start.CheckedAdd(r.size);
    if (!end) return Error("guest memory range at " + Hex(r.start.raw()) + " overflows");
    if (!mem.regions_.empty() && r.start.raw() < prev_end) {
      return Error("guest memory ranges overlap or are unsorted at " + Hex(r.start.raw()));
    }
    // MAP_NORESERVE: the guest touches what it uses; untouched RAM costs nothing.
    void* p = mmap(nullptr, r.size, PROT_READ | PROT_WRITE,
                   MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    if (p == MAP_FAILED) return Error::FromErrno("mapping " + Hex(r.size) + " bytes of guest memory");
    // Keep guest RAM out of core dumps and fork children.
    madvise(p, r.size, MADV_DONTDUMP);
    madvise(p, r.size, MADV_DONTFORK);
    mem.regions_.push_back({r.start, r.size, static_cast<uint8_t*>(p)});
    prev_end = end->raw();
  }
  return mem;
}

GuestMemory::GuestMemory(GuestMemory&& other) noexcept : regions_(std::move(other.regions_)) {
  other.regions_.clear();
}

GuestMemory& GuestMemory::operator=(GuestMemory&& other) noexcept {
  if (this != &other) {
    Unmap();
    regions_ = std::move(other.regions_);
    other.regions_.clear();
  }
  return *this;
}

GuestMemory::~GuestMemory() { Unmap(); }

void GuestMemory::Unmap() {
  for (const Region& r : regions_) munmap(r.host, r.size);
  regions_.clear();
}

uint64_t GuestMemory::total_size() const {
  uint64_t total = 0;
  for (const Region& r : regions_) total += r.size;
  return total;
}

const GuestMemory::Region* GuestMemory::Find(GuestAddress addr, uint64_t len) const {
  for (const Region& r : regions_) {
    auto off = addr.OffsetFrom(r.start);
    if (!off || *off >= r.size) continue;
    if (len > r.size - *off) return nullptr;  // runs past the end of its region
    return &r;
  }
  return nullptr;
}

bool GuestMemory::Contains(GuestAddress addr, uint64_t len) const { return Find(addr, len) != nullptr; }

Status GuestMemory::Read(GuestAddress addr, std::span<uint8_t> out) const {
  BH_ASSIGN(auto src, Slice(addr, out.size()));
  if (!out.empty()) memcpy(out.data(), src.data(), out.size());
  return Ok();
}

Status GuestMemory::Write(GuestAddress addr, std::span<const uint8_t> in) {
  BH_ASSIGN(auto dst, Slice(addr, in.size()));
  if (!in.empty()) memcpy(dst.data(), in.data(), in.size());
  return Ok();
}

Result<std::span<uint8_t>> GuestMemory::Slice(GuestAddress addr, uint64_t len) {
  const Region* r = Find(addr, len);
  if (r == nullptr) {
    return Error("guest range " + Hex(addr.raw()) + "+" + Hex(len) + " is outside guest memory", EFAULT);
  }
  return std::span<uint8_t>(r->host + (addr.raw() - r->start.raw()), static_cast<size_t>(len));
}

Result<std::span<const uint8_t>> GuestMemory::Slice(GuestAddress addr, uint64_t len) const {
  const Region* r = Find(addr, len);
  if (r == nullptr) {
    return Error("guest range " + Hex(addr.raw()) + "+" + Hex(len) + " is outside guest memory", EFAULT);
  }
  return std::span<const uint8_t>(r->host + (addr.raw() - r->start.raw()), static_cast<size_t>(len));
}

}  // namespace bulkhead::vmm
