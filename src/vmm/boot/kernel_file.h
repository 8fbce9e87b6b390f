// The kernel image as the loaders read it: bytes already in memory (tests, fuzzing) or a file
// read with pread only where a loader needs it, so an ELF segment goes from the file straight
// into guest RAM, with no copy of the whole file in between.
#pragma once

#include <cstdint>
#include <span>
#include <vector>

#include "base/result.h"

namespace bulkhead::vmm {

class KernelFile {
 public:
  static KernelFile FromBytes(std::span<const uint8_t> bytes) { return KernelFile(bytes, -1, bytes.size()); }
  // `size` is the file's size when it was checked; reads past what is there then fail.
  static KernelFile FromFd(int fd, uint64_t size) { return KernelFile({}, fd, size); }

  uint64_t size() const { return size_; }

  // [offset, offset + len) lies inside the file.
  bool Contains(uint64_t offset, uint64_t len) const { return offset <= size_ && len <= size_ - offset; }

  // Exactly out.size() bytes from offset; an error when they are not all in the file.
  Status ReadAt(uint64_t offset, std::span<uint8_t> out) const;
  Result<std::vector<uint8_t>> Read(uint64_t offset, uint64_t len) const;

 private:
  KernelFile(std::span<const uint8_t> bytes, int fd, uint64_t size) : bytes_(bytes), fd_(fd), size_(size) {}

  std::span<const uint8_t> bytes_;
  int fd_;
  uint64_t size_;
};

}  // namespace bulkhead::vmm
