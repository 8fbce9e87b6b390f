// Entry points for fuzz targets: each lays arbitrary bytes into a fresh guest
// memory as rings, descriptor tables, request headers and data, and runs the
// device code over them. They must survive any input; a broken internal
// invariant aborts (so the fuzzer reports it), nothing else may.
#pragma once

#include <cstdint>
#include <span>

namespace bulkhead::vmm {

// Input layout: byte 0 picks the queue size (1 << (b % 9)), byte 1 bit 0
// allows indirect descriptors, bytes 2..7 place the descriptor table, avail
// and used rings (16-bit page-granular offsets, so misplaced rings are tried
// too); everything from byte 8 on is guest memory from address 0. Pops chains
// until the ring is empty or breaks, returns each as used, and checks every
// chain against the walker's promises. Returns the number of chains popped.
uint32_t FuzzVirtqueue(std::span<const uint8_t> data);

// Input layout: byte 0 picks the queue size, byte 1 bit 0 makes the disk
// read-only and bit 1 negotiates indirect descriptors, bytes 2..3 the number
// of notifications; everything from byte 8 on is guest memory from address 0,
// where the rings sit at fixed places (desc 0x0, avail 0x1000, used 0x2000).
// Brings a virtio-blk device up through MMIO as a driver would, against a
// 64-sector disk in a memfd, and notifies it. Returns the used-ring index.
uint32_t FuzzBlockRequests(std::span<const uint8_t> data);

}  // namespace bulkhead::vmm
