// virtio-blk (device type 2) over a host file. One request queue; requests are
// served synchronously by the caller's thread (the event loop) with
// preadv/pwritev straight between the file and guest memory.
//
// A request is a header (type, reserved, sector: 16 bytes) at the start of
// the chain's readable bytes, data, and a status byte at the very end of its
// writable bytes; how the driver splits these into descriptors does not
// matter. IN reads the writable bytes before the status, OUT writes the
// readable bytes after the header, FLUSH calls fdatasync, GET_ID returns the
// configured id (20 bytes, NUL-padded). Every shape or range error is answered
// VIRTIO_BLK_S_IOERR, an unknown type VIRTIO_BLK_S_UNSUPP; a chain without a
// writable byte has nowhere for a status and is returned with used length 0.
// Data must be whole 512-byte sectors, inside the disk, and at most
// kMaxDataBytes per request (what the offered seg_max and size_max allow).
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <string>

#include "base/result.h"
#include "base/unique_fd.h"
#include "vmm/devices/virtio/device.h"

namespace bulkhead::vmm {

constexpr uint64_t kVirtioBlkFSizeMax = 1ull << 1;
constexpr uint64_t kVirtioBlkFSegMax = 1ull << 2;
constexpr uint64_t kVirtioBlkFRo = 1ull << 5;
constexpr uint64_t kVirtioBlkFFlush = 1ull << 9;

constexpr uint32_t kVirtioBlkTIn = 0;
constexpr uint32_t kVirtioBlkTOut = 1;
constexpr uint32_t kVirtioBlkTFlush = 4;
constexpr uint32_t kVirtioBlkTGetId = 8;

constexpr uint8_t kVirtioBlkSOk = 0;
constexpr uint8_t kVirtioBlkSIoErr = 1;
constexpr uint8_t kVirtioBlkSUnsupp = 2;

class VirtioBlock : public VirtioDevice {
 public:
  static constexpr uint64_t kSectorSize = 512;
  static constexpr uint32_t kIdBytes = 20;
  // Offered limits: segments per request and bytes per segment.
  static constexpr uint32_t kSegMax = 126;
  static constexpr uint32_t kSizeMax = 64 * 1024;
  static constexpr uint64_t kMaxDataBytes = uint64_t{kSegMax} * kSizeMax;

  // Opens `path` read-only (O_RDONLY) or read-write. `id` is at most 20 bytes.
  static Result<std::unique_ptr<VirtioBlock>> Open(const std::string& path, bool read_only, std::string id);
  // Takes an already open file; a read-only disk must come as an O_RDONLY fd.
  static Result<std::unique_ptr<VirtioBlock>> Create(UniqueFd fd, bool read_only, std::string id);

  uint64_t capacity_sectors() const { return capacity_; }
  bool read_only() const { return read_only_; }

  uint32_t device_type() const override { return kVirtioIdBlock; }
  uint16_t queue_count() const override { return 1; }
  uint64_t features() const override;
  uint32_t config_size() const override;
  void ReadConfig(uint64_t offset, std::span<uint8_t> data) const override;
  Status Activate(uint64_t) override { return Ok(); }
  Result<QueueWork> ProcessQueue(uint16_t index, GuestMemory& mem, std::span<Virtqueue> queues) override;
  void Reset() override {}

 private:
  VirtioBlock(UniqueFd fd, bool read_only, std::string id, uint64_t capacity)
      : fd_(std::move(fd)), read_only_(read_only), id_(std::move(id)), capacity_(capacity) {}
  // Serves one request; returns the used length (bytes written to the guest).
  uint32_t Handle(GuestMemory& mem, const DescriptorChain& chain);
  uint8_t Read(GuestMemory& mem, const DescriptorChain& chain, uint64_t sector, uint64_t len);
  uint8_t Write(GuestMemory& mem, const DescriptorChain& chain, uint64_t sector, uint64_t len);
  bool InRange(uint64_t sector, uint64_t len) const;

  const UniqueFd fd_;
  const bool read_only_;
  const std::string id_;
  const uint64_t capacity_;  // in 512-byte sectors
};

}  // namespace bulkhead::vmm
