#include "vmm/devices/virtio/block.h"

#include <fcntl.h>
#include <sys/uio.h>
#include <unistd.h>

#include <algorithm>
#include <climits>
#include <cstring>

#include "base/syscall.h"
#include "vmm/devices/virtio/chain_io.h"

namespace bulkhead::vmm {
namespace {

constexpr uint64_t kHeaderBytes = 16;

// struct virtio_blk_config up to blk_size: capacity, size_max, seg_max,
// geometry (zero), blk_size (zero: not offered).
constexpr uint32_t kConfigBytes = 24;

// Moves all of `iov` between the file at `offset` and guest memory, resuming
// after short transfers. Each round moves at least one byte or stops.
Status FullIo(int fd, bool write, std::vector<iovec> iov, uint64_t offset) {
  size_t first = 0;
  while (first < iov.size()) {
    const int count = static_cast<int>(std::min<size_t>(iov.size() - first, IOV_MAX));
    const off_t off = static_cast<off_t>(offset);
    ssize_t n = RetryEintr([&] {
      return write ? pwritev(fd, &iov[first], count, off) : preadv(fd, &iov[first], count, off);
    });
    if (n < 0) return Error::FromErrno(write ? "pwritev" : "preadv");
    if (n == 0) return Error("disk ended early");
    offset += static_cast<uint64_t>(n);
    size_t left = static_cast<size_t>(n);
    while (left > 0 && first < iov.size()) {
      const size_t take = std::min(left, iov[first].iov_len);
      iov[first].iov_base = static_cast<uint8_t*>(iov[first].iov_base) + take;
      iov[first].iov_len -= take;
      left -= take;
      if (iov[first].iov_len == 0) ++first;
    }
  }
  return Ok();
}

}  // namespace

Result<std::unique_ptr<VirtioBlock>> VirtioBlock::Open(const std::string& path, bool read_only, std::string id) {
  int fd = RetryEintr([&] { return open(path.c_str(), (read_only ? O_RDONLY : O_RDWR) | O_CLOEXEC); });
  if (fd < 0) return Error::FromErrno("opening disk image " + path);
  return std::move(Create(UniqueFd(fd), read_only, std::move(id))).Context("disk image " + path);
}

Result<std::unique_ptr<VirtioBlock>> VirtioBlock::Create(UniqueFd fd, bool read_only, std::string id) {
  if (id.size() > kIdBytes) return Error("disk id \"" + id + "\" is longer than 20 bytes");
  int flags = fcntl(fd.get(), F_GETFL);
  if (flags < 0) return Error::FromErrno("reading the disk fd's flags");
  if (read_only && (flags & O_ACCMODE) != O_RDONLY) return Error("a read-only disk must be opened O_RDONLY");
  off_t size = lseek(fd.get(), 0, SEEK_END);
  if (size < 0) return Error::FromErrno("finding the disk size");
  // A partial last sector is not addressable.
  const uint64_t capacity = static_cast<uint64_t>(size) / kSectorSize;
  return std::unique_ptr<VirtioBlock>(new VirtioBlock(std::move(fd), read_only, std::move(id), capacity));
}

uint64_t VirtioBlock::features() const {
  uint64_t f = kVirtioFVersion1 | kVirtioFIndirectDesc | kVirtioBlkFSizeMax | kVirtioBlkFSegMax | kVirtioBlkFFlush;
  if (read_only_) f |= kVirtioBlkFRo;
  return f;
}

uint32_t VirtioBlock::config_size() const { return kConfigBytes; }

void VirtioBlock::ReadConfig(uint64_t offset, std::span<uint8_t> data) const {
  uint8_t config[kConfigBytes] = {};
  memcpy(config + 0, &capacity_, 8);
  memcpy(config + 8, &kSizeMax, 4);
  memcpy(config + 12, &kSegMax, 4);
  if (offset > kConfigBytes || data.size() > kConfigBytes - offset) return;
  memcpy(data.data(), config + offset, data.size());
}

Result<QueueWork> VirtioBlock::ProcessQueue(uint16_t index, GuestMemory& mem, std::span<Virtqueue> queues) {
  if (index != 0 || queues.empty()) return QueueWork::kDone;
  Virtqueue& q = queues[0];
  for (uint32_t n = 0; n < kQueueBudget; ++n) {
    BH_ASSIGN(auto chain, q.Pop(mem));
    if (!chain) return QueueWork::kDone;
    BH_TRY(q.AddUsed(mem, chain->head, Handle(mem, *chain)));
  }
  return QueueWork::kMore;
}

uint32_t VirtioBlock::Handle(GuestMemory& mem, const DescriptorChain& chain) {
  if (chain.writable_bytes == 0) return 0;  // no status byte: nothing to answer with
  const uint64_t status_at = chain.writable_bytes - 1;
  uint8_t status = kVirtioBlkSIoErr;
  uint64_t written = 0;  // data bytes put in the writable buffers

  struct {
    uint32_t type;
    uint32_t reserved;
    uint64_t sector;
  } header{};
  static_assert(sizeof header == kHeaderBytes);
  if (chain.readable_bytes >= kHeaderBytes &&
      ReadFromChain(mem, chain, 0, {reinterpret_cast<uint8_t*>(&header), kHeaderBytes}).ok()) {
    const uint64_t data_in = chain.readable_bytes - kHeaderBytes;  // bytes after the header
    const uint64_t data_out = status_at;                           // bytes before the status
    switch (header.type) {
      case kVirtioBlkTIn:
        if (data_in == 0) {
          status = Read(mem, chain, header.sector, data_out);
          if (status == kVirtioBlkSOk) written = data_out;
        }
        break;
      case kVirtioBlkTOut:
        if (data_out == 0) status = Write(mem, chain, header.sector, data_in);
        break;
      case kVirtioBlkTFlush:
        if (data_in == 0 && data_out == 0) {
          status = RetryEintr([&] { return fdatasync(fd_.get()); }) == 0 ? kVirtioBlkSOk : kVirtioBlkSIoErr;
        }
        break;
      case kVirtioBlkTGetId:
        if (data_in == 0) {
          uint8_t id[kIdBytes] = {};
          memcpy(id, id_.data(), id_.size());
          const uint64_t n = std::min<uint64_t>(kIdBytes, data_out);
          if (WriteToChain(mem, chain, 0, {id, static_cast<size_t>(n)}).ok()) {
            status = kVirtioBlkSOk;
            written = n;
          }
        }
        break;
      default:
        status = kVirtioBlkSUnsupp;
        break;
    }
  }
  if (!WriteToChain(mem, chain, status_at, {&status, 1}).ok()) return 0;
  return static_cast<uint32_t>(written + 1);
}

bool VirtioBlock::InRange(uint64_t sector, uint64_t len) const {
  if (len % kSectorSize != 0 || len > kMaxDataBytes) return false;
  return sector <= capacity_ && len / kSectorSize <= capacity_ - sector;
}

uint8_t VirtioBlock::Read(GuestMemory& mem, const DescriptorChain& chain, uint64_t sector, uint64_t len) {
  if (!InRange(sector, len)) return kVirtioBlkSIoErr;
  auto iov = ChainIovecs(mem, chain, /*writable=*/true, 0, len);
  if (!iov.ok() || !FullIo(fd_.get(), false, std::move(*iov), sector * kSectorSize).ok()) return kVirtioBlkSIoErr;
  return kVirtioBlkSOk;
}

uint8_t VirtioBlock::Write(GuestMemory& mem, const DescriptorChain& chain, uint64_t sector, uint64_t len) {
  if (read_only_ || !InRange(sector, len)) return kVirtioBlkSIoErr;
  auto iov = ChainIovecs(mem, chain, /*writable=*/false, kHeaderBytes, len);
  if (!iov.ok() || !FullIo(fd_.get(), true, std::move(*iov), sector * kSectorSize).ok()) return kVirtioBlkSIoErr;
  return kVirtioBlkSOk;
}

}  // namespace bulkhead::vmm
